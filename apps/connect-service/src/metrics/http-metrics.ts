import type { FastifyInstance } from 'fastify';
import { metric } from '@app/common';

/**
 * HTTP request duration by route template, method and status. A Fastify onResponse hook (not a Nest
 * interceptor) so that 404s, body-parser errors and guard rejections are measured too.
 */
export function registerHttpMetrics(fastify: FastifyInstance): void {
  const histogram = metric.histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // Templates, never raw URLs: raw paths would explode the label cardinality.
    const route = request.routeOptions?.url ?? 'unmatched';
    histogram.observe(
      { route, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

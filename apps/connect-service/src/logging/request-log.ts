import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';

/** Probes and scrapes would drown the log; their failures still show in the metrics. */
const UNLOGGED = new Set(['/health/live', '/metrics']);

/** What a request line says about the request: never headers, never the query (it can hold OAuth codes). */
export function requestFields(request: FastifyRequest): { id: string; method: string; path: string } {
  const url = request.url;
  const q = url.indexOf('?');
  return { id: request.id, method: request.method, path: q === -1 ? url : url.slice(0, q) };
}

/**
 * One line per answered request, written from Fastify's onResponse hook: built from four fields rather than a
 * per-request child logger and serializers. `sampleRate` < 1 keeps that share of successful (< 400) requests;
 * every 4xx and 5xx is always written.
 */
export function registerRequestLog(fastify: FastifyInstance, logger: PinoLogger, sampleRate: number): void {
  if (!logger.isLevelEnabled('info')) return;
  // Its keys are fixed and none is a redacted path, so the line skips redaction (a per-key walk of every path).
  const lines = logger.child({}, { redact: { paths: [] } });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    if (status < 400 && sampleRate < 1 && Math.random() >= sampleRate) return done();
    if (UNLOGGED.has(request.url)) return done();
    const line = {
      req: requestFields(request),
      res: { statusCode: status },
      responseTime: Math.round(reply.elapsedTime),
    };
    if (status >= 500) lines.error(line, 'request errored');
    else lines.info(line, 'request completed');
    done();
  });
}

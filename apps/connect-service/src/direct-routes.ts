import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { answerServiceError } from '@app/common';

export interface DirectRoute {
  method: string;
  url: string;
  /** The same work the Nest handler of this route does, without Nest's per-request pipeline. */
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Response schemas: Fastify then serialises the answer with a compiled serialiser. */
  response?: FastifySchema['response'];
}

const logger = new Logger('Errors');

/**
 * Serves a hot public route straight from Fastify: when Nest registers it, its handler is swapped for `handler`.
 * The route stays declared (and documented in Swagger) by its controller; only the per-request pipeline is
 * skipped: guards (the route is public and checks its own proof), interceptors and pipes. Fastify's hooks (request
 * id, deadline, security headers, metrics, request log, audit of refusals) run as for every route, and errors are
 * answered as ServiceErrors exactly as the global filter does.
 */
export function registerDirectRoutes(fastify: FastifyInstance, routes: DirectRoute[]): void {
  fastify.addHook('onRoute', (options) => {
    const methods = Array.isArray(options.method) ? options.method : [options.method];
    const direct = routes.find((r) => r.url === options.url && methods.includes(r.method));
    if (!direct) return;
    options.handler = async function directHandler(request, reply) {
      try {
        return await direct.handler(request, reply);
      } catch (err) {
        answerServiceError(err, request, reply, logger);
        return reply;
      }
    };
    if (direct.response) options.schema = { ...(options.schema ?? {}), response: direct.response };
  });
}

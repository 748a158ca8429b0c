import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { FastifyServerOptions } from 'fastify';
import { answerServiceError } from '@app/common';
import { serviceConfig } from '@app/config';

const logger = new Logger('Errors');

/** Fastify's server options, from the service's config namespace. */
export function serverOptions(svc: ConfigType<typeof serviceConfig>): FastifyServerOptions {
  return {
    bodyLimit: svc.bodyLimitBytes,
    requestTimeout: svc.requestTimeoutMs,
    // Stripe signs the exact bytes; Nest keeps them in request.rawBody (rawBody: true in createApp).
    trustProxy: true,
    logger: false,
    // One id per request, taken from the caller's X-Request-Id when it is sane, echoed back, and put on every
    // log line written while it is served.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // While draining, requests already on a kept-alive connection are served (with Connection: close) rather than
    // answered Fastify's own non-ServiceError 503; the listener is closed, so no new connection arrives.
    return503OnClosing: false,
    // The router's own refusals (a path that is not UTF-8, a parameter over maxParamLength) leave as ServiceErrors.
    frameworkErrors: (error, request, reply) => answerServiceError(error, request, reply, logger),
  };
}

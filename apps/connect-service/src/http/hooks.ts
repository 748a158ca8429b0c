import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES, ErrorCode, ServiceErrorBody } from '@app/common';

/**
 * Answers 503 RequestTimeout once a request has run REQUEST_TIMEOUT_MS (Fastify's requestTimeout only bounds
 * receiving the request): a caller never waits longer on a saturated pool or a slow dependency. The handler is not
 * cancelled; whatever it commits stays consistent (payments resolve through their idempotency key).
 */
export function registerRequestDeadline(fastify: FastifyInstance, ms: number): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.destroyed) return;
      const body: ServiceErrorBody = {
        code: ErrorCode.RequestTimeout,
        message: `The request took longer than ${ms} ms; retry later`,
        http_status: ERROR_CODES[ErrorCode.RequestTimeout].status,
      };
      void reply.code(body.http_status).header('content-type', 'application/json; charset=utf-8').send(body);
    }, ms);
    timers.set(request, timer);
    done();
  });
  const clear = (request: object, _reply: unknown, done: () => void) => {
    clearTimeout(timers.get(request));
    done();
  };
  fastify.addHook('onResponse', clear);
  fastify.addHook('onRequestAbort', (request, done) => clear(request, null, done));
}

/** The caller's X-Request-Id when it is sane (else a fresh one), echoed back on every answer. */
export function registerRequestId(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!/^[\w.-]{1,128}$/.test(request.id)) request.id = randomUUID();
    void reply.header('x-request-id', request.id);
    done();
  });
}

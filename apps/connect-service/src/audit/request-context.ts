import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '@app/auth';

export type ContextRequest = FastifyRequest & { user?: Caller };

const storage = new AsyncLocalStorage<ContextRequest>();

/**
 * Makes the current request reachable from services without threading it through every call (audit rows need
 * the caller, IP and request id where the action happens). The request object itself is stored, so the caller
 * the guards attach later is seen too. Registered from create-app.ts before Nest adds its routes.
 */
export function registerRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    storage.run(request as ContextRequest, done);
  });
}

/** The request being served, or undefined in background work (jobs, CLI). */
export function currentRequest(): ContextRequest | undefined {
  return storage.getStore();
}

import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '@app/auth';
import { serverFailureOf } from '@app/common';
import { errorTrackingConfig } from '@app/config';
import { reportError, startErrorTracking, stopErrorTracking, stripeRequestIdOf } from './error-tracking';

/**
 * Reports every 5xx answer once (4xx are the caller's business, never reported), tagged with the request id, the
 * route (not the raw URL), the tenant and the Stripe request id when Stripe failed. Probes are left out: a 503
 * readiness answer during a drain is their job, not an error.
 */
export function registerErrorTracking(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 500) {
      const route = request.routeOptions?.url;
      if (!route?.startsWith('/health')) reportServerError(request, reply.statusCode, route);
    }
    done();
  });
}

function reportServerError(request: FastifyRequest, status: number, route: string | undefined): void {
  const failure = serverFailureOf(request);
  const err = failure ?? new Error(`HTTP ${status} answered without an exception`);
  reportError(err, {
    kind: 'http_5xx',
    request_id: request.id,
    route: `${request.method} ${route ?? '(no route)'}`,
    tenant_id: (request as FastifyRequest & { user?: Caller }).user?.tenantId ?? undefined,
    stripe_request_id: stripeRequestIdOf(failure),
  });
}

/** Turns the error tracker on when SENTRY_DSN is set, and flushes it (for at most 2 s) at shutdown. */
@Module({})
export class ErrorTrackingModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(errorTrackingConfig.KEY) private readonly cfg: ConfigType<typeof errorTrackingConfig>,
  ) {}

  onModuleInit(): void {
    if (startErrorTracking(this.cfg)) {
      new Logger('ErrorTracking').log(`Errors are reported to ${new URL(this.cfg.dsn!).host}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await stopErrorTracking();
  }
}

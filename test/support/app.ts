import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from '@nestjs/common';
import { Client } from 'pg';
import { signAccessToken, Role } from '@app/auth';
import { STRIPE_CONNECTION, StripeConnection } from '@app/stripe-gateway';
import { createApp } from '../../apps/connect-service/src/http/create-app';
import { WebhookSecrets } from '../../apps/connect-service/src/webhooks/webhook-secrets.service';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TEST_DB_MARKER } = require('../setup/test-db-marker') as { TEST_DB_MARKER: string };

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/**
 * Refuses to run against a database that the test run did not create and mark (global-setup.js): a
 * mis-set DATABASE_URL must never let a suite write into a real database.
 */
export async function assertTestDatabase(url = process.env.DATABASE_URL): Promise<void> {
  if (!url) throw new Error('DATABASE_URL is not set: run the suites through `npm test` (jest global setup)');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ marker: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = current_database()`,
    );
    if (rows[0]?.marker !== TEST_DB_MARKER) {
      throw new Error(`Refusing to run: ${new URL(url).pathname.slice(1)} is not marked as a test database`);
    }
  } finally {
    await client.end();
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  /** Set when booted with `listen: true`: the service's real HTTP address (the emulator delivers webhooks here). */
  baseUrl?: string;
  /** The in-process Stripe emulator's base URL (its control API is under /_emulator/). */
  emulatorUrl?: string;
  token(
    claims: { sub?: string; tenant_id?: string; roles: Role[]; scope?: string },
    expiresIn?: number | string,
  ): string;
  close(): Promise<void>;
}

export const ALL_SCOPES =
  'accounts:read accounts:write payments:read payments:write events:read events:write webhooks:read webhooks:write';

/**
 * Boots the full AppModule on Fastify, as production does (createApp), against the run's test database.
 * `env` overrides the environment for this app only (restored on close).
 */
export async function bootTestApp(
  env: Record<string, string | undefined> = {},
  module?: Type<unknown>,
  opts: { listen?: boolean; registerWebhooks?: boolean } = {},
): Promise<TestApp> {
  await assertTestDatabase();
  const saved = { ...process.env };
  Object.assign(process.env, {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STRIPE_EMULATOR_PORT: '0',
    // One pg-boss schema per app: suites share the run's database but never each other's jobs.
    JOB_QUEUE_SCHEMA: `jobs_${Math.random().toString(36).slice(2, 10)}`,
    // Suites share one Redis and one test subject: budgets would leak between them. Rate-limit suites opt in.
    RATE_LIMIT_ENABLED: 'false',
    // Suites assert exact expiry (a 3 s token refused after 3.2 s); production tolerates 30 s of drift.
    JWT_CLOCK_SKEW_SECONDS: '0',
    ...env,
  });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  const app = await createApp({ module });
  let baseUrl: string | undefined;
  if (opts.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await app.getUrl();
    baseUrl = baseUrl.replace('[::1]', '127.0.0.1');
  } else {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }
  const connection = app.get<StripeConnection>(STRIPE_CONNECTION);
  if (opts.registerWebhooks) {
    // As main.ts does in development: the emulator (in-process, or the one STRIPE_API_BASE points at) delivers
    // signed webhooks for every event to this app. Needs `listen: true`.
    if (!baseUrl) throw new Error('registerWebhooks needs listen: true');
    await app.get(WebhookSecrets).registerWithEmulator(baseUrl);
  }
  const emulatorUrl = connection.emulated ? connection.apiBase : undefined;
  const secret = process.env.JWT_SECRET ?? TEST_JWT_SECRET;
  return {
    app,
    baseUrl,
    emulatorUrl,
    token: (claims, expiresIn = '10m') =>
      signAccessToken(
        {
          sub: claims.sub ?? 'test-user',
          tenant_id: claims.tenant_id,
          roles: claims.roles,
          scope: claims.scope ?? ALL_SCOPES,
        },
        { secret, expiresIn: expiresIn as never },
      ),
    close: async () => {
      await app.close();
      process.env = saved;
    },
  };
}

/** A unique tenant id per test, so suites sharing the run's database never collide. */
export function uniqueTenant(prefix = 'tenant'): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from '@nestjs/common';
import { Client } from 'pg';
import { signAccessToken, Role } from '@app/auth';
import { createApp } from '../../apps/connect-service/src/create-app';
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
  token(claims: { sub?: string; tenant_id?: string; roles: Role[]; scope?: string }, expiresIn?: number | string): string;
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
): Promise<TestApp> {
  await assertTestDatabase();
  const saved = { ...process.env };
  Object.assign(process.env, {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STRIPE_EMULATOR_PORT: '0',
    ...env,
  });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  const app = await createApp({ module });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const secret = process.env.JWT_SECRET ?? TEST_JWT_SECRET;
  return {
    app,
    token: (claims, expiresIn = '10m') =>
      signAccessToken(
        { sub: claims.sub ?? 'test-user', tenant_id: claims.tenant_id, roles: claims.roles, scope: claims.scope ?? ALL_SCOPES },
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

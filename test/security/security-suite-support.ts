import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ROLES, Role } from '@app/auth';
import { ALL_SCOPES, bootTestApp, TEST_JWT_SECRET, TestApp, uniqueTenant } from '../support/app';
import { api } from '../support/http';
import { ResourceKind } from './route-table';

/**
 * The security suite: every endpoint × every role × own/other tenant, generated from the route table;
 * attacks on JWTs, API keys, webhooks and OAuth states; hostile bodies on every write; and, over the whole suite,
 * a capture of every log line proving none of the secrets used here was written.
 */

export type Caller = Role | 'none';
export const CALLERS: Caller[] = ['none', ...ROLES];
export const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64url')}`;
export const ENCRYPTION_KEY = `suite:${randomBytes(32).toString('base64')}`;
export const PAN = '4242 4242 4242 4242';

export interface Res {
  status: number;
  body: Record<string, unknown>;
  raw: string;
}

export const counts: Record<string, number> = {};
export const count = (category: string, n = 1): void => {
  counts[category] = (counts[category] ?? 0) + n;
};

/** The suite's world: the app (booted with a log capture), tenant B's seeded resources, and request helpers. */
export function securitySuite() {
  let t: TestApp;
  let db: Client;
  const captured: string[] = [];
  const secretsUsed = new Set<string>([WEBHOOK_SECRET, ENCRYPTION_KEY.split(':')[1], TEST_JWT_SECRET]);
  let writeSpy: jest.SpyInstance;

  const tenantA = uniqueTenant('secA');
  const tenantB = uniqueTenant('secB');
  const seeded: Partial<Record<ResourceKind, string>> = {};

  const token = (
    claims: { sub?: string; tenant_id?: string; roles: Role[]; scope?: string },
    exp?: number | string,
  ): string => {
    const tok = t.token(claims, exp);
    secretsUsed.add(tok);
    return tok;
  };
  const headersFor = (caller: Caller, scope = ALL_SCOPES): Record<string, string> =>
    caller === 'none'
      ? {}
      : {
          authorization: `Bearer ${token({
            sub: `suite-${caller}`,
            roles: [caller],
            tenant_id: caller === 'platform' ? undefined : tenantA,
            scope,
          })}`,
        };
  const send = (
    method: string,
    url: string,
    headers: Record<string, string>,
    payload?: string | object,
    contentType = 'application/json',
  ): Promise<Res> => api(t)(method as 'GET', url, { headers, body: payload, contentType });
  const pathOf = (key: string, tenant: string, id: string = randomUUID()): string =>
    key.split(' ')[1].replace(':tenantId', tenant).replace(':id', id);

  beforeAll(async () => {
    writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
    t = await bootTestApp({
      LOG_LEVEL: 'debug',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ENCRYPTION_KEY,
      API_KEY_ROTATION_GRACE_SECONDS: '0',
    });
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();

    // Resources of tenant B that tenant A must never see.
    const pay = await db.query<{ id: string }>(
      `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, amount, currency, stripe_idempotency_key)
       VALUES ($1, 'acct_secB', (enum_range(NULL::payment_route_type))[1], 1000, 'usd', $2) RETURNING id`,
      [tenantB, `idem_${randomUUID()}`],
    );
    seeded.payment = pay.rows[0].id;
    const ev = await db.query<{ id: string }>(
      `INSERT INTO connect_events (type, tenant_id) VALUES ('connect.payment.completed', $1) RETURNING id`,
      [tenantB],
    );
    seeded.connect_event = ev.rows[0].id;
    const wh = await db.query<{ id: string }>(
      `INSERT INTO stripe_webhook_events (stripe_event_id, type, tenant_id, livemode, event_created, payload, status)
       VALUES ($1, 'account.updated', $2, false, 1764130000, '{}', 'processed') RETURNING id`,
      [`evt_sec_${randomUUID()}`, tenantB],
    );
    seeded.webhook_event = wh.rows[0].id;
    const run = await db.query<{ id: string }>(
      `INSERT INTO reconciliation_runs (tenant_id, window_from, window_to, grace_seconds, trigger, status)
       VALUES ($1, now() - interval '1 day', now(), 900, 'manual', 'completed') RETURNING id`,
      [tenantB],
    );
    seeded.reconciliation_run = run.rows[0].id;
    await db.query(
      `INSERT INTO reconciliation_items (run_id, last_run_id, tenant_id, scope, identity, category, status, object_created_at)
       VALUES ($1, $1, $2, 'live', $3, 'duplicate', 'mismatched', now())`,
      [seeded.reconciliation_run, tenantB, `duplicate|-|pi_${randomUUID()}`],
    );
    const sub = await send('POST', '/connect/event-subscriptions', headersFor('platform'), {
      url: 'https://tenant-b.example.com/hooks',
      event_types: ['*'],
      tenant_id: tenantB,
    });
    expect(sub.status).toBe(201);
    seeded.event_subscription = sub.body.id as string;
    secretsUsed.add(sub.body.secret as string);
    const key = await send('POST', '/connect/api-keys', headersFor('platform'), {
      name: 'tenant-b',
      role: 'admin',
      scopes: ['payments:read'],
      tenant_id: tenantB,
    });
    expect(key.status).toBe(201);
    seeded.api_key = key.body.id as string;
    secretsUsed.add(key.body.key as string);
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    writeSpy?.mockRestore();
    // Case counts per category, so a shrinking suite shows in the log.
    process.stderr.write(`\nsecurity suite cases: ${JSON.stringify(counts)}\n`);
  });

  return {
    get t(): TestApp {
      return t;
    },
    get db(): Client {
      return db;
    },
    captured,
    secretsUsed,
    tenantA,
    tenantB,
    seeded,
    token,
    headersFor,
    send,
    pathOf,
  };
}

export type SecuritySuite = ReturnType<typeof securitySuite>;

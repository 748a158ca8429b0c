import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { parseEncryptionKeys, SecretBox } from '@app/common';
import { accessTokenContext } from '../../apps/connect-service/src/connect-oauth/connect-oauth.service';
import { subscriptionSecretContext } from '../../apps/connect-service/src/events/event-subscriptions.service';
import { RetentionService } from '../../apps/connect-service/src/security/retention.service';
import { SecretsReencryptService } from '../../apps/connect-service/src/security/secrets-reencrypt.service';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { api } from '../support/http';

const OLD_KEY = `sec_old_${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;
const NEW_KEY = `sec_new_${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;

describe('retention, secret re-encryption and the CLI', () => {
  let t: TestApp;
  let db: Client;
  beforeAll(async () => {
    t = await bootTestApp({ ENCRYPTION_KEY: OLD_KEY });
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('purges old webhook payloads (keeping the event ids), delivery bodies and audit rows; keeps the rest', async () => {
    const tenant = uniqueTenant('ret');
    const evt = (suffix: string): string => `evt_ret_${suffix}_${randomUUID().replace(/-/g, '')}`;
    const ids = { oldDone: evt('old_done'), oldPending: evt('old_pending'), fresh: evt('fresh') };
    const insertEvent = (id: string, status: string, age: string): Promise<unknown> =>
      db.query(
        `INSERT INTO stripe_webhook_events (stripe_event_id, type, tenant_id, livemode, event_created, payload, status, received_at)
         VALUES ($1, 'account.updated', $2, false, 1764130000, '{"data": {"object": {"email": "a@b.c"}}}', $3, now() - $4::interval)`,
        [id, tenant, status, age],
      );
    await insertEvent(ids.oldDone, 'processed', '40 days');
    await insertEvent(ids.oldPending, 'received', '40 days');
    await insertEvent(ids.fresh, 'processed', '1 day');

    const ev = await db.query<{ id: string }>(
      `INSERT INTO connect_events (type, tenant_id) VALUES ('connect.payment.completed', $1) RETURNING id`,
      [tenant],
    );
    const sub = await db.query<{ id: string }>(
      `INSERT INTO event_subscriptions (tenant_id, url, event_types, secret_enc) VALUES ($1, 'https://r.example/h', '{*}', 'v1.none.a.b.c') RETURNING id`,
      [tenant],
    );
    const del = await db.query<{ id: string }>(
      `INSERT INTO event_deliveries (event_id, subscription_id, tenant_id) VALUES ($1, $2, $3) RETURNING id`,
      [ev.rows[0].id, sub.rows[0].id, tenant],
    );
    await db.query(
      `INSERT INTO event_delivery_attempts (tenant_id, delivery_id, attempt_no, status_code, duration_ms, response_body, created_at)
       VALUES ($2, $1, 1, 500, 12, 'old body', now() - interval '40 days'), ($2, $1, 2, 200, 9, 'new body', now())`,
      [del.rows[0].id, tenant],
    );
    await db.query(
      `INSERT INTO audit_log (actor_type, tenant_id, action, outcome, created_at)
       VALUES ('system', $1, 'payment.create', 'success', now() - interval '400 days'), ('system', $1, 'payment.refund', 'success', now())`,
      [tenant],
    );

    const result = await t.app.get(RetentionService).purge();
    expect(result.webhookPayloads).toBeGreaterThanOrEqual(1);
    expect(result.deliveryAttemptBodies).toBeGreaterThanOrEqual(1);
    expect(result.auditRows).toBeGreaterThanOrEqual(1);

    const events = await db.query<{ stripe_event_id: string; payload: object }>(
      `SELECT stripe_event_id, payload FROM stripe_webhook_events WHERE tenant_id = $1`,
      [tenant],
    );
    const byId = Object.fromEntries(events.rows.map((r) => [r.stripe_event_id, r.payload]));
    expect(byId[ids.oldDone]).toEqual({}); // the row (and its unique event id) stays for dedupe
    expect(byId[ids.oldPending]).toHaveProperty('data'); // still to be processed
    expect(byId[ids.fresh]).toHaveProperty('data');
    const attempts = await db.query<{
      attempt_no: number;
      response_body: string | null;
      status_code: number;
    }>(
      `SELECT attempt_no, response_body, status_code FROM event_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_no`,
      [del.rows[0].id],
    );
    expect(attempts.rows).toEqual([
      { attempt_no: 1, response_body: null, status_code: 500 },
      { attempt_no: 2, response_body: 'new body', status_code: 200 },
    ]);
    const audit = await db.query<{ action: string }>(`SELECT action FROM audit_log WHERE tenant_id = $1`, [
      tenant,
    ]);
    expect(audit.rows.map((r) => r.action)).toEqual(['payment.refund']);
    // A duplicate delivery of the purged event still stops at the unique key.
    await expect(
      db.query(
        `INSERT INTO stripe_webhook_events (stripe_event_id, type, livemode, event_created, payload) VALUES ($1, 'x', false, 1, '{}')`,
        [ids.oldDone],
      ),
    ).rejects.toThrow(/duplicate key/);
    // Outside the retention transaction, the audit log still refuses deletes.
    await expect(db.query(`DELETE FROM audit_log WHERE tenant_id = $1`, [tenant])).rejects.toThrow(
      /append-only/,
    );
    expect((await t.app.get(RetentionService).purge()).webhookPayloads).toBeGreaterThanOrEqual(0);
  });

  it('re-seals every sealed column under the new key while the old one still opens; idempotent', async () => {
    const tenant = uniqueTenant('enc');
    const oldBox = new SecretBox(parseEncryptionKeys([OLD_KEY]));
    const created = await api(t)('POST', '/connect/event-subscriptions', {
      headers: { authorization: `Bearer ${t.token({ roles: ['platform'] })}` },
      body: { url: 'https://enc.example.com/hook', event_types: ['*'], tenant_id: tenant },
    });
    expect(created.status).toBe(201);
    const subId = (created.body as { id: string; secret: string }).id;
    const subSecret = (created.body as { id: string; secret: string }).secret;
    await db.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, onboarding_method, account_type, access_token_enc)
       VALUES ($1, $2, 'oauth', 'standard', $3)`,
      [
        tenant,
        `acct_enc_${randomBytes(6).toString('hex')}`,
        oldBox.seal('sk_test_access_token_x', accessTokenContext(tenant)),
      ],
    );
    const read = async (): Promise<{ sub: string; token: string }> => ({
      sub: (
        await db.query<{ s: string }>(`SELECT secret_enc AS s FROM event_subscriptions WHERE id = $1`, [
          subId,
        ])
      ).rows[0].s,
      token: (
        await db.query<{ s: string }>(
          `SELECT access_token_enc AS s FROM connect_accounts WHERE tenant_id = $1`,
          [tenant],
        )
      ).rows[0].s,
    });
    const before = await read();
    expect(before.sub.split('.')[1]).toBe(OLD_KEY.split(':')[0]);

    const rotated = new SecretBox(parseEncryptionKeys([NEW_KEY, OLD_KEY]));
    const service = new SecretsReencryptService(t.app.get(DataSource), rotated);
    const first = await service.run();
    expect(first.map((r) => `${r.table}.${r.column}`)).toEqual([
      'connect_accounts.access_token_enc',
      'connect_accounts.refresh_token_enc',
      'event_subscriptions.secret_enc',
      'idempotency_records.response_body_enc',
      'event_destinations.secret_enc',
    ]);
    const after = await read();
    const newOnly = new SecretBox(parseEncryptionKeys([NEW_KEY]));
    expect(after.sub.split('.')[1]).toBe(NEW_KEY.split(':')[0]);
    expect(newOnly.open(after.sub, subscriptionSecretContext(subId))).toBe(subSecret);
    expect(newOnly.open(after.token, accessTokenContext(tenant))).toBe('sk_test_access_token_x');

    await service.run();
    expect(await read()).toEqual(after); // nothing of ours left to re-seal
  });

  const cli = join(__dirname, '../../dist/apps/connect-service/src/cli/create-api-key.js');
  (existsSync(cli) ? it : it.skip)(
    'api-key:create prints a working first key (built CLI; `npm test` builds first)',
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [cli, '--role', 'platform', '--scopes', 'accounts:read payments:read', '--name', 'cli-test'],
        {
          env: {
            ...process.env,
            NODE_ENV: 'test',
            LOG_LEVEL: 'silent',
            STRIPE_EMULATOR_PORT: '0',
            JOB_QUEUE_SCHEMA: `jobs_cli_${randomBytes(4).toString('hex')}`,
            WORKERS_ENABLED: 'false',
          },
          timeout: 60_000,
        },
      );
      const key = stdout.trim();
      expect(key).toMatch(/^ck_test_[0-9a-f]{20}_[A-Za-z0-9_-]{43}$/);
      const res = await api(t)('GET', '/connect/api-keys?limit=1', { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
    },
  );
});

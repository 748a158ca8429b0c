import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ErrorCode, SecretBox } from '@app/common';
import { ConnectAccountEntity } from '@app/database';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { emulatorControl } from '../support/emulator';
import { connectTenant as connectAccount, platformToken, postPayment } from '../support/factory';
import { bootTestApp, TestApp } from '../support/app';

jest.setTimeout(120_000);

/** The statements the app sends on its own pool (TypeORM's, application_name connect-service) for `fn`. */
async function statementsOf<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const query = Client.prototype.query;
  const counting = function (this: Client, ...args: unknown[]): unknown {
    const config = args[0] as string | { text?: string };
    const own = (this as unknown as { connectionParameters: { application_name?: string } })
      .connectionParameters.application_name;
    const text = typeof config === 'string' ? config : (config.text ?? '');
    // Every replica polls new JWT revocations on the same pool in the background: not the payment's work.
    if (own === 'connect-service' && !/\bauth_revocations\b/.test(text)) statements.push(text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  };
  Client.prototype.query = counting as typeof query;
  try {
    return { result: await fn(), statements };
  } finally {
    Client.prototype.query = query;
  }
}

/**
 * A payment with the platform fee on an active account is three statements: one read, the key's claim with the
 * route's INSERT, and one write after Stripe that records the PaymentIntent with its event, dispatch job,
 * idempotent answer and audit row.
 */
describe('payment hot path: three statements, everything recorded by the last one', () => {
  let t: TestApp;
  let ds: DataSource;
  const platform = (): string => platformToken(t, 'statements-platform');

  beforeAll(async () => {
    // No workers: nothing else uses the app's pool while a payment is counted.
    t = await bootTestApp({ WORKERS_ENABLED: 'false', PLATFORM_FEE_BASIS_POINTS: '290' });
    ds = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  const connectTenant = async (overrides: Partial<ConnectAccountEntity> = {}): Promise<string> =>
    (await connectAccount(t, { prefix: 'stmt', columns: overrides })).tenant;

  const post = (tenant: string, key?: string, amount = 5_000) =>
    postPayment(t, { tenant, amount, idempotencyKey: key ?? null, token: platform() });

  const auditRows = async (routeId: string) =>
    ds.query(
      `SELECT actor, actor_type, tenant_id, action, target_type, target_id, outcome, ip, details, request_id
         FROM audit_log WHERE action = 'payment.create' AND target_id = $1 ORDER BY created_at`,
      [routeId],
    ) as Promise<Record<string, unknown>[]>;

  it('with a key: 3 statements, no transaction; the answer, event, job and audit row are stored with the route', async () => {
    const tenant = await connectTenant();
    const key = `stmt-${tenant}`;
    await post(tenant, undefined, 1_000); // the connections have prepared the statements
    const { result: res, statements } = await statementsOf(() => post(tenant, key));
    expect(res.status).toBe(201);
    expect(statements).toHaveLength(3);
    expect(statements.filter((s) => /^\s*(BEGIN|START TRANSACTION|COMMIT)/i.test(s))).toEqual([]);

    const [route] = await ds.query(
      `SELECT status, stripe_payment_intent_id, stripe_object_id, version FROM payment_routes WHERE id = $1`,
      [res.body.id],
    );
    expect(route).toMatchObject({ stripe_payment_intent_id: res.body.payment_intent.id, version: 2 });
    expect(route.stripe_object_id).toMatch(/^ch_/);

    // The stored answer is the first answer, sealed as the idempotency service seals it.
    const [record] = await ds.query(
      `SELECT id, state, response_status, response_body_enc FROM idempotency_records WHERE key = $1`,
      [key],
    );
    expect(record).toMatchObject({ state: 'completed', response_status: 201 });
    const opened = t.app
      .get(SecretBox)
      .open(record.response_body_enc, `idempotency_records.response_body:${record.id}`);
    expect(JSON.parse(opened)).toEqual(res.body);
    const again = await post(tenant, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(res.body);

    // connect.payment.routed and its dispatch job, exactly as pg-boss's send would create it.
    const events = await ds.query(
      `SELECT id, data FROM connect_events WHERE type = $1 AND data->>'payment_route_id' = $2`,
      ['connect.payment.routed', res.body.id],
    );
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({
      payment_intent_id: res.body.payment_intent.id,
      status: 'pending',
    });
    const schema = process.env.JOB_QUEUE_SCHEMA!;
    const cols = `name, data, state, retry_limit, retry_delay, retry_backoff, dead_letter, expire_in, policy, priority,
      singleton_key, round(EXTRACT(epoch FROM (keep_until - start_after)) / 60) AS keep_minutes`;
    const [ours] = await ds.query(`SELECT ${cols} FROM ${schema}.job WHERE data->>'eventId' = $1`, [
      events[0].id,
    ]);
    const sentId = await t.app
      .get(JobQueue)
      .send('events.fan-out-to-subscriptions', { eventId: events[0].id });
    const [sent] = await ds.query(`SELECT ${cols} FROM ${schema}.job WHERE id = $1`, [sentId]);
    expect(ours).toEqual(sent);

    // One audit row from the payment's statement, the same the interceptor wrote for the replay.
    await new Promise((r) => setTimeout(r, 300));
    const audited = await auditRows(res.body.id);
    expect(audited).toHaveLength(2);
    const strip = ({ request_id: _r, ...row }: Record<string, unknown>) => row;
    expect(strip(audited[0])).toEqual(strip(audited[1]));
    expect(audited[0]).toMatchObject({
      actor: 'statements-platform',
      actor_type: 'user',
      tenant_id: tenant,
      target_type: 'payment_route',
      outcome: 'success',
      details: {},
    });
  });

  it('without a key: the same three statements, and no idempotency record', async () => {
    const tenant = await connectTenant();
    const { result: res, statements } = await statementsOf(() => post(tenant));
    expect(res.status).toBe(201);
    expect(statements).toHaveLength(3);
    const records = await ds.query(`SELECT id FROM idempotency_records WHERE scope = $1`, [
      `statements-platform|${tenant}`,
    ]);
    expect(records).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await auditRows(res.body.id)).toHaveLength(1);
  });

  it('a refusal before the claim is still the key’s answer: replayed after the account is fixed, another body is refused', async () => {
    const tenant = await connectTenant({ charges_enabled: false });
    const key = `refused-${tenant}`;
    const first = await post(tenant, key);
    expect(first.body.code).toBe(ErrorCode.AccountInvalid);
    await ds.query(`UPDATE connect_accounts SET charges_enabled = true WHERE tenant_id = $1`, [tenant]);
    const again = await post(tenant, key);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    const other = await post(tenant, key, 6_000);
    expect(other.body.code).toBe(ErrorCode.IdempotencyKeyReused);
    expect(await ds.query(`SELECT id FROM payment_routes WHERE tenant_id = $1`, [tenant])).toEqual([]);
    expect((await post(tenant, `${key}-new`)).status).toBe(201);
  });
});

/**
 * A webhook that completes the route while Stripe's answer is still on its way: the record after Stripe finds the
 * row changed and records from the row as it is, never moving it back.
 */
describe('payment hot path: a webhook first', () => {
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await bootTestApp({ STRIPE_TIMEOUT_MS: '10000' }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
    ds = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  it('the route stays completed; the answer stored and the audit row are still the request’s', async () => {
    const { tenant } = await connectAccount(t, { prefix: 'first' });
    // Stripe creates the PaymentIntent (and sends its webhooks) at once, but answers 3 s later.
    await emulatorControl(t.emulatorUrl!, '/faults', {
      path: '/v1/payment_intents',
      method: 'POST',
      count: 1,
      delay_ms: 3_000,
      mode: 'after',
    });
    const key = `first-${tenant}`;
    const res = await postPayment(t, {
      tenant,
      amount: 4_000,
      idempotencyKey: key,
      token: platformToken(t, 'first-platform'),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('completed');
    const [route] = await ds.query(
      `SELECT status, stripe_payment_intent_id FROM payment_routes WHERE id = $1`,
      [res.body.id],
    );
    expect(route).toEqual({ status: 'completed', stripe_payment_intent_id: res.body.payment_intent.id });
    const [record] = await ds.query(
      `SELECT id, state, response_status, response_body_enc FROM idempotency_records WHERE key = $1`,
      [key],
    );
    expect(record).toMatchObject({ state: 'completed', response_status: 201 });
    const opened = t.app
      .get(SecretBox)
      .open(record.response_body_enc, `idempotency_records.response_body:${record.id}`);
    expect(JSON.parse(opened)).toEqual(res.body);
    await new Promise((r) => setTimeout(r, 300));
    const audited = await ds.query(
      `SELECT outcome FROM audit_log WHERE action = 'payment.create' AND target_id = $1`,
      [res.body.id],
    );
    expect(audited).toEqual([{ outcome: 'success' }]);
  });
});

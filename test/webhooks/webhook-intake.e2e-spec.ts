import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { WebhookHandlerRegistry } from '../../apps/connect-service/src/webhooks/webhook-handler.registry';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl } from '../support/emulator';
import {
  CONNECT_SECRET,
  connectTenant,
  countEffects,
  countReceivedEvents,
  createTestEffectTables,
  customerNameHandler,
  deliver,
  eventBody,
  inboxRows,
  inboxRowWhere,
  insertConnectAccount,
  PLATFORM_SECRET,
} from './webhook-support';
import { ErrorCode } from '@app/common';
import { api } from '../support/http';

const SCHEMA = 'wh_intake_e2e';

describe('webhooks: intake and exactly-once processing (emulator delivering signed webhooks)', () => {
  let t: TestApp;
  let ds: DataSource;
  let gateway: StripeGateway;
  let baseUrl: string;
  const hooks: { failNext?: number } = {};
  let unregister: () => void;

  beforeAll(async () => {
    t = await bootTestApp(
      { STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET, STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    baseUrl = t.baseUrl!;
    ds = t.app.get(DataSource);
    gateway = t.app.get(StripeGateway);
    await createTestEffectTables(ds, SCHEMA);
    unregister = t.app
      .get(WebhookHandlerRegistry)
      .register(['customer.created', 'customer.updated'], customerNameHandler(SCHEMA, hooks));
  });

  afterAll(async () => {
    unregister?.();
    await ds?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await t?.close();
  });

  it('five concurrent deliveries of one event and a replay: one inbox row, one effect, one connect.webhook.received', async () => {
    const { tenantId, accountId } = await connectTenant(ds, gateway);
    // Hold the emulator's own delivery so the five concurrent ones are the first to arrive.
    await emulatorControl(t.emulatorUrl!, 'webhooks/pause');
    const customer = await gateway.createCustomer({ name: 'Ada' }, { stripeAccount: accountId });
    const events = await gateway.listEvents({ stripeAccount: accountId, types: ['customer.created'] });
    const event = events.data.find((e) => (e.data.object as { id: string }).id === customer.id)!;
    expect(event.account).toBe(accountId);

    await emulatorControl(t.emulatorUrl!, `events/${event.id}/redeliver`, { times: 5, concurrent: true });
    await emulatorControl(t.emulatorUrl!, 'webhooks/resume');
    const row = await inboxRowWhere(ds, event.id, (r) => r.status === 'processed', 'processed');
    expect(row).toMatchObject({ tenant_id: tenantId, outcome: 'applied', source: 'webhook', attempts: 1 });

    const deliveries = await emulatorControl<{ data: Array<{ event_id: string; status: number }> }>(
      t.emulatorUrl!,
      'webhooks/deliveries',
      undefined,
      'GET',
    );
    const mine = deliveries.data.filter((d) => d.event_id === event.id);
    // 5 redeliveries + the held one to the Connect endpoint, every one acknowledged.
    expect(mine.length).toBeGreaterThanOrEqual(6);
    expect(mine.every((d) => d.status === 200)).toBe(true);

    const token = t.token({ roles: ['platform'] });
    const replay = await api(t)('POST', `/connect/webhooks/events/${row.id}/replay`, { token });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: row.id, status: 'received', source: 'replay' });
    const replayed = await inboxRowWhere(
      ds,
      event.id,
      (r) => r.status === 'processed' && r.attempts === 2,
      'replayed',
    );
    // The handler saw the event it applied last: stale, nothing doubled.
    expect(replayed.outcome).toBe('stale');

    expect(await inboxRows(ds, event.id)).toHaveLength(1);
    expect(await countEffects(ds, SCHEMA, event.id)).toBe(1);
    expect(await countReceivedEvents(ds, event.id)).toBe(1);
    const [state] = await ds.query(`SELECT name FROM ${SCHEMA}.customers WHERE customer_id = $1`, [
      customer.id,
    ]);
    expect(state.name).toBe('Ada');
  });

  it('an older event delivered after a newer one does not roll state back', async () => {
    const { accountId } = await connectTenant(ds, gateway);
    const now = Math.floor(Date.now() / 1000);
    const customerId = `cus_order_${Date.now()}`;
    const newer = eventBody({
      type: 'customer.updated',
      account: accountId,
      created: now,
      object: { id: customerId, object: 'customer', name: 'New name' },
    });
    const older = eventBody({
      type: 'customer.updated',
      account: accountId,
      created: now - 60,
      object: { id: customerId, object: 'customer', name: 'Old name' },
    });

    expect((await deliver(baseUrl, newer)).status).toBe(200);
    await inboxRowWhere(ds, newer.id as string, (r) => r.status === 'processed', 'newer processed');
    expect((await deliver(baseUrl, older)).status).toBe(200);
    const olderRow = await inboxRowWhere(
      ds,
      older.id as string,
      (r) => r.status === 'processed',
      'older processed',
    );

    expect(olderRow.outcome).toBe('stale');
    const [state] = await ds.query(
      `SELECT name, last_event_id FROM ${SCHEMA}.customers WHERE customer_id = $1`,
      [customerId],
    );
    expect(state).toEqual({ name: 'New name', last_event_id: newer.id });
  });

  it('forged, unsigned, malformed and 10-minute-old signatures: 400 CONNECT_004, nothing stored, counted', async () => {
    const body = eventBody({
      type: 'customer.created',
      account: 'acct_forged',
      object: { id: 'cus_forged', object: 'customer' },
    });
    const old = Math.floor(Date.now() / 1000) - 600;
    const attempts = [
      await deliver(baseUrl, body, { secret: 'whsec_not_ours' }),
      await deliver(baseUrl, body, { secret: null }),
      await deliver(baseUrl, body, { signature: 'garbage' }),
      await deliver(baseUrl, body, { secret: CONNECT_SECRET, timestamp: old }),
    ];
    for (const a of attempts) {
      expect(a.status).toBe(400);
      expect(a.json).toMatchObject({ code: ErrorCode.WebhookInvalid, http_status: 400 });
    }
    expect(attempts.map((a) => (a.json.details as { reason: string }).reason)).toEqual([
      'no_matching_signature',
      'missing_signature',
      'malformed',
      'timestamp_out_of_tolerance',
    ]);
    expect(await inboxRows(ds, body.id as string)).toHaveLength(0);

    const metrics = (await api(t)('GET', '/metrics')).raw;
    expect(metrics).toMatch(
      /stripe_webhook_signature_failures_total\{reason="timestamp_out_of_tolerance"\} [1-9]/,
    );
  });

  it('a body altered after signing is refused', async () => {
    const body = eventBody({
      type: 'customer.created',
      account: 'acct_x',
      object: { id: 'cus_x', object: 'customer' },
    });
    const payload = JSON.stringify(body);
    const { generateTestHeaderString } = (await import('stripe')).default.webhooks;
    const signature = generateTestHeaderString({ payload, secret: CONNECT_SECRET });
    const res = await fetch(`${baseUrl}/connect/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload.replace('cus_x', 'cus_y'),
    });
    expect(res.status).toBe(400);
    expect(await inboxRows(ds, body.id as string)).toHaveLength(0);
  });

  it('answers duplicate deliveries with duplicate: true, and platform-endpoint secrets verify too', async () => {
    const { tenantId } = await connectTenant(ds, gateway);
    // A platform event attributed through our metadata.
    const body = eventBody({
      type: 'customer.created',
      object: {
        id: `cus_meta_${Date.now()}`,
        object: 'customer',
        name: 'Meta',
        metadata: { tenant_id: tenantId },
      },
    });
    const first = await deliver(baseUrl, body, { secret: PLATFORM_SECRET });
    const second = await deliver(baseUrl, body, { secret: PLATFORM_SECRET });
    expect([first.json, second.json]).toEqual([
      { received: true, duplicate: false },
      { received: true, duplicate: true },
    ]);
    const row = await inboxRowWhere(ds, body.id as string, (r) => r.status === 'processed', 'processed');
    expect(row.tenant_id).toBe(tenantId);
  });

  it('stores other-mode events as ignored, unhandled types as ignored/no_handler, unknown accounts as unmatched', async () => {
    const { accountId, tenantId } = await connectTenant(ds, gateway);
    const live = eventBody({
      type: 'customer.created',
      account: accountId,
      livemode: true,
      object: { id: 'cus_live', object: 'customer' },
    });
    expect((await deliver(baseUrl, live)).status).toBe(200);
    const [liveRow] = await inboxRows(ds, live.id as string);
    expect(liveRow).toMatchObject({ status: 'ignored', outcome: 'livemode_mismatch' });

    const unhandled = eventBody({
      type: 'balance.available',
      account: accountId,
      object: { object: 'balance' },
    });
    expect((await deliver(baseUrl, unhandled)).status).toBe(200);
    const unhandledRow = await inboxRowWhere(
      ds,
      unhandled.id as string,
      (r) => r.status === 'ignored',
      'ignored',
    );
    expect(unhandledRow).toMatchObject({ outcome: 'no_handler', tenant_id: tenantId });

    // Unknown account: kept, not retried; once the account is connected, a replay applies it.
    const lateAccount = `acct_late_${Date.now()}`;
    const orphan = eventBody({
      type: 'customer.created',
      account: lateAccount,
      object: { id: `cus_orphan_${Date.now()}`, object: 'customer', name: 'Orphan' },
    });
    expect((await deliver(baseUrl, orphan)).status).toBe(200);
    const orphanRow = await inboxRowWhere(
      ds,
      orphan.id as string,
      (r) => r.status === 'unmatched',
      'unmatched',
    );
    expect(orphanRow).toMatchObject({ outcome: 'unmatched', tenant_id: null, attempts: 1 });

    const lateTenant = uniqueTenant('wh_late');
    await insertConnectAccount(ds, lateTenant, lateAccount);
    const token = t.token({ roles: ['platform'] });
    const res = await api(t)('POST', `/connect/webhooks/events/${orphan.id as string}/replay`, { token });
    expect(res.status).toBe(200);
    const applied = await inboxRowWhere(
      ds,
      orphan.id as string,
      (r) => r.status === 'processed',
      'processed after replay',
    );
    expect(applied).toMatchObject({ tenant_id: lateTenant, outcome: 'applied', source: 'replay' });
    expect(await countReceivedEvents(ds, orphan.id as string)).toBe(1);
  });

  it('a failing handler rolls back, records the attempt and error, and the retry applies it once', async () => {
    const { accountId } = await connectTenant(ds, gateway);
    hooks.failNext = 1;
    const body = eventBody({
      type: 'customer.created',
      account: accountId,
      object: { id: `cus_fail_${Date.now()}`, object: 'customer', name: 'Retry' },
    });
    expect((await deliver(baseUrl, body)).status).toBe(200);
    const failed = await inboxRowWhere(ds, body.id as string, (r) => r.status === 'failed', 'failed once');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toContain('handler exploded on purpose');

    const done = await inboxRowWhere(
      ds,
      body.id as string,
      (r) => r.status === 'processed',
      'processed on retry',
    );
    expect(done).toMatchObject({ attempts: 2, outcome: 'applied', last_error: null });
    // The effect written by the failed attempt rolled back with it.
    expect(await countEffects(ds, SCHEMA, body.id as string)).toBe(1);
    expect(await countReceivedEvents(ds, body.id as string)).toBe(1);
  });

  it('lets operators list (filtered, paginated, tenant-scoped), read and replay inbox events', async () => {
    const { tenantId, accountId } = await connectTenant(ds, gateway);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = eventBody({
        type: 'customer.created',
        account: accountId,
        object: { id: `cus_list_${i}_${Date.now()}`, object: 'customer' },
      });
      await deliver(baseUrl, body);
      ids.push(body.id as string);
    }
    for (const id of ids) await inboxRowWhere(ds, id, (r) => r.status === 'processed', 'processed');

    const platform = t.token({ roles: ['platform'] });
    const get = async (path: string, token: string) => {
      const res = await api(t)<Record<string, unknown>>('GET', path, { token });
      return { status: res.status, body: res.body };
    };

    const page1 = await get(`/connect/webhooks/events?tenant_id=${tenantId}&limit=2`, platform);
    expect(page1.status).toBe(200);
    const data1 = page1.body.data as Array<Record<string, unknown>>;
    expect(data1.map((e) => e.stripe_event_id)).toEqual([ids[2], ids[1]]);
    expect(data1[0]).toMatchObject({
      status: 'processed',
      attempts: 1,
      last_error: null,
      tenant_id: tenantId,
      outcome: 'applied',
    });
    expect(data1[0]).not.toHaveProperty('payload');
    expect(page1.body.has_more).toBe(true);
    const page2 = await get(
      `/connect/webhooks/events?tenant_id=${tenantId}&limit=2&cursor=${page1.body.next_cursor as string}`,
      platform,
    );
    expect((page2.body.data as Array<Record<string, unknown>>).map((e) => e.stripe_event_id)).toEqual([
      ids[0],
    ]);
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null });

    const filtered = await get(
      `/connect/webhooks/events?tenant_id=${tenantId}&status=failed&type=customer.created`,
      platform,
    );
    expect(filtered.body.data).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      (await get(`/connect/webhooks/events?tenant_id=${tenantId}&created_gte=${future}`, platform)).body.data,
    ).toEqual([]);

    const admin = t.token({ roles: ['admin'], tenant_id: tenantId });
    const own = await get('/connect/webhooks/events?limit=100', admin);
    const ownData = own.body.data as Array<Record<string, unknown>>;
    expect(ownData.length).toBe(3);
    expect(ownData.every((e) => e.tenant_id === tenantId)).toBe(true);

    const otherAdmin = t.token({ roles: ['admin'], tenant_id: uniqueTenant('other') });
    expect((await get(`/connect/webhooks/events?tenant_id=${tenantId}`, otherAdmin)).status).toBe(403);
    expect((await get(`/connect/webhooks/events/${ids[0]}`, otherAdmin)).status).toBe(404);
    const replayForeign = await api(t)('POST', `/connect/webhooks/events/${ids[0]}/replay`, {
      token: otherAdmin,
    });
    expect(replayForeign.status).toBe(404);
    const viewer = t.token({ roles: ['viewer'], tenant_id: tenantId });
    expect((await get('/connect/webhooks/events', viewer)).status).toBe(403);
    expect((await get('/connect/webhooks/events?limit=500', platform)).body).toMatchObject({
      code: ErrorCode.ValidationFailed,
    });

    const one = await get(`/connect/webhooks/events/${ids[0]}`, admin);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      stripe_event_id: ids[0],
      payload: { id: ids[0], type: 'customer.created' },
    });

    const metrics = (await api(t)('GET', '/metrics')).raw;
    expect(metrics).toMatch(/stripe_webhook_events_total\{type="customer.created",outcome="applied"\} [1-9]/);
    expect(metrics).toMatch(/stripe_webhook_processing_lag_seconds_count\{type="customer.created"\} [1-9]/);
    expect(metrics).toMatch(/stripe_webhook_inbox_backlog\{status="received"\} \d+/);
  });

  it('refuses backfill to non-platform callers and outside the 30-day window', async () => {
    const admin = t.token({ roles: ['admin'], tenant_id: uniqueTenant() });
    const post = async (token: string, body: unknown) => {
      const res = await api(t)<Record<string, unknown>>('POST', '/connect/webhooks/backfill', {
        token,
        body,
      });
      return { status: res.status, body: res.body };
    };
    expect((await post(admin, { since: new Date().toISOString() })).status).toBe(403);
    const platform = t.token({ roles: ['platform'] });
    const tooOld = await post(platform, { since: new Date(Date.now() - 31 * 86_400_000).toISOString() });
    expect(tooOld).toMatchObject({ status: 400, body: { code: ErrorCode.ValidationFailed } });
    expect((await post(platform, { since: 'yesterday' })).body).toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
  });
});

import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { ErrorCode } from '@app/common';
import { StripeGateway } from '@app/stripe-gateway';
import { EventDestinationsService } from '../../apps/connect-service/src/webhooks/event-destinations.service';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { countReceivedEvents, inboxRowWhere, inboxRows } from '../webhooks/webhook-support';

describe('Thin events: event destinations, exactly-once intake on two replicas, forged and expired events', () => {
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;
  let gateway: StripeGateway;

  beforeAll(async () => {
    const schema = `jobs_thin_${Math.random().toString(36).slice(2, 8)}`;
    // Replicas share the encryption key, as in production: either opens the destination secret the other sealed.
    const ENCRYPTION_KEY = `thin:${Buffer.alloc(32, 7).toString('base64')}`;
    a = await bootTestApp({ JOB_QUEUE_SCHEMA: schema, ENCRYPTION_KEY }, undefined, { listen: true });
    // A second replica: same database and queue, A's emulator as its Stripe.
    b = await bootTestApp(
      {
        JOB_QUEUE_SCHEMA: schema,
        ENCRYPTION_KEY,
        STRIPE_SECRET_KEY: 'sk_test_emulator',
        STRIPE_API_BASE: a.emulatorUrl,
      },
      undefined,
      { listen: true },
    );
    db = a.app.get(DataSource);
    gateway = a.app.get(StripeGateway);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const platform = (t: TestApp) => ({ authorization: `Bearer ${t.token({ roles: ['platform'] })}` });
  const admin = (t: TestApp, tenant: string) => ({
    authorization: `Bearer ${t.token({ tenant_id: tenant, roles: ['admin'] })}`,
  });
  const post = (t: TestApp, payload: string, signature: string) =>
    fetch(`${t.baseUrl}/connect/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });

  let secret: string;
  let tenant: string;
  let acct: string;
  let delivered: {
    id: string;
    type: string;
    created_at: string;
    context: string | null;
    related_object: unknown;
  };

  it('creates the destination at Stripe, stores its secret sealed and lists it without it', async () => {
    const res = await api(a)('POST', '/connect/webhooks/destinations', {
      headers: platform(a),
      body: { url: `${a.baseUrl}/connect/webhooks` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ has_secret: true, status: 'enabled' });
    expect(res.body.enabled_events).toContain('v2.core.account[requirements].updated');
    expect(JSON.stringify(res.body)).not.toMatch(/whsec_/);
    const stored = await db.query(`SELECT secret_enc FROM event_destinations`);
    expect(stored).toHaveLength(1);
    expect(stored[0].secret_enc).not.toMatch(/whsec_/);
    const atStripe = await gateway.v2.listEventDestinations();
    expect(atStripe.map((d) => d.id)).toContain(res.body.id);
    expect(atStripe.find((d) => d.id === res.body.id)).toMatchObject({ event_payload: 'thin' });

    // Updating keeps one destination and its secret.
    const again = await api(a)('POST', '/connect/webhooks/destinations', {
      headers: platform(a),
      body: { url: `${a.baseUrl}/connect/webhooks`, name: 'renamed' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: res.body.id, name: 'renamed', has_secret: true });
    const list = await api(a)('GET', '/connect/webhooks/destinations', { headers: platform(a) });
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toMatch(/whsec_/);
    [secret] = await a.app.get(EventDestinationsService).secrets(true);
    expect(secret).toMatch(/^whsec_/);
  });

  it('a v2 account change arrives thin and is applied through the fetched event and account', async () => {
    tenant = uniqueTenant('thin');
    const created = await api(a)('POST', `/connect/accounts/${tenant}`, {
      headers: admin(a, tenant),
      body: { country: 'US', email: 'thin@v2.test', configurations: ['merchant'] },
    });
    expect(created.status).toBe(201);
    acct = created.body.stripe_account_id;
    // The creation's own event may beat the row's commit (then it stays unmatched, as any event for an unknown
    // account): a change made once the account is ours is what must arrive thin.
    const put = await api(a)('PUT', `/connect/accounts/${tenant}`, {
      headers: admin(a, tenant),
      body: { metadata: { crm_id: '42' } },
    });
    expect(put.status).toBe(200);
    const row = await eventually('a thin account event processed', async () => {
      const rows = await db.query(
        `SELECT * FROM stripe_webhook_events WHERE stripe_account_id = $1 AND type LIKE 'v2.core.account%' AND status = 'processed'`,
        [acct],
      );
      return rows[0];
    });
    expect(row.tenant_id).toBe(tenant);
    expect(row.payload).toMatchObject({ object: 'v2.core.event', thin: true, account: acct });
    delivered = row.payload;
  });

  async function signedNotification(id?: string): Promise<{ payload: string; eventId: string }> {
    // What the destination delivered, as Stripe signs it.
    const notification = {
      id: id ?? delivered.id,
      object: 'v2.core.event',
      type: delivered.type,
      created: delivered.created_at,
      livemode: false,
      context: delivered.context,
      related_object: delivered.related_object,
    };
    return { payload: JSON.stringify(notification), eventId: notification.id };
  }

  it('one thin event delivered twice to each of two replicas is stored and processed once', async () => {
    const { payload, eventId } = await signedNotification(`evt_test_dup_${Date.now().toString(36)}`);
    // An id Stripe does not know: processing settles it as gone instead of retrying forever.
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const answers = await Promise.all([a, b, a, b].map((t) => post(t, payload, header)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ duplicate: boolean }>));
    expect(bodies.filter((x) => !x.duplicate)).toHaveLength(1);
    const settled = await inboxRowWhere(db, eventId, (r) => r.status === 'processed', 'processed');
    expect(settled.outcome).toBe('gone');
    expect(await inboxRows(db, eventId)).toHaveLength(1);
    expect(settled.attempts).toBe(1);

    const real = await signedNotification();
    const realHeader = Stripe.webhooks.generateTestHeaderString({ payload: real.payload, secret });
    await Promise.all([a, b, a, b].map((t) => post(t, real.payload, realHeader)));
    await emulatorControl(a.emulatorUrl!, `events/${real.eventId}/redeliver`, { times: 2, concurrent: true });
    await inboxRowWhere(db, real.eventId, (r) => r.status === 'processed', 'processed');
    expect(await inboxRows(db, real.eventId)).toHaveLength(1);
    expect(await countReceivedEvents(db, real.eventId)).toBe(1);
  });

  it('refuses a forged thin event and stores nothing', async () => {
    const { payload, eventId } = await signedNotification(`evt_test_forged_${Date.now().toString(36)}`);
    const forged = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_attacker_0123456789' });
    const res = await post(b, payload, forged);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe(ErrorCode.WebhookInvalid);
    expect(await inboxRows(db, eventId)).toHaveLength(0);
  });

  it('a v1 event delivered thin (v1.account.updated) runs the v1 account handler', async () => {
    const events = [...(await gateway.v2.listEventDestinations())[0].enabled_events, 'v1.account.updated'];
    const res = await api(a)('POST', '/connect/webhooks/destinations', {
      headers: platform(a),
      body: { url: `${a.baseUrl}/connect/webhooks`, enabled_events: events },
    });
    expect(res.body.enabled_events).toContain('v1.account.updated');
    await emulatorControl(a.emulatorUrl!, `accounts/${acct}/requirements`, {
      currently_due: ['company.tax_id'],
      deadline: Math.floor(Date.now() / 1000) + 3600,
    });
    const row = await eventually('a thin v1.account.updated processed', async () => {
      const rows = await db.query(
        `SELECT * FROM stripe_webhook_events WHERE stripe_account_id = $1 AND type = 'v1.account.updated' AND status = 'processed'`,
        [acct],
      );
      return rows[0];
    });
    expect(['applied', 'stale']).toContain(row.outcome);
    expect(row.tenant_id).toBe(tenant);
  });

  it('backfill also reads /v2/core/events', async () => {
    const res = await api(a)('POST', '/connect/webhooks/backfill', {
      headers: platform(a),
      body: { since: new Date(Date.now() - 3600_000).toISOString() },
    });
    expect(res.status).toBe(200);
    const v2Events = await gateway.v2.listEvents({ context: acct });
    expect(v2Events.length).toBeGreaterThan(0);
    expect(res.body.scanned).toBeGreaterThanOrEqual(v2Events.length);
  });
});

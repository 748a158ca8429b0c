import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { ErrorCode } from '@app/common';
import { PaymentRouteEntity } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { api, ApiResponse, JsonBody } from '../support/http';
import { createPrivateDatabase } from '../utils/private-database';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorRequests } from '../support/emulator';
import { connectTenant, createPayment } from '../support/factory';
import { PLATFORM_SECRET } from '../webhooks/webhook-support';

jest.setTimeout(90_000);

/**
 * Each finding of a fuzzing run over the public API, reproduced: 5xx answers, answers outside the document, and
 * money state that disagreed with Stripe. On a database of its own: it activates rule sets, which are platform-wide.
 */
describe('hostile input: the fuzzing findings', () => {
  let t: TestApp;
  let ds: DataSource;
  let gateway: StripeGateway;
  let db: Awaited<ReturnType<typeof createPrivateDatabase>>;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, JsonBody> }>> };
  const platform = (): string => t.token({ sub: 'hostile-platform', roles: ['platform'] });
  const call = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
    api(t)(method, url, { token: platform(), body, headers });

  const expectServiceError = (res: ApiResponse, status: number, code: string): void => {
    expect({ status: res.status, code: res.body.code, http_status: res.body.http_status }).toEqual({
      status,
      code,
      http_status: status,
    });
  };
  const stripeCalls = async (method: string, path: string): Promise<number> =>
    (await emulatorRequests(t.emulatorUrl!, { method, path })).length;

  beforeAll(async () => {
    db = await createPrivateDatabase();
    t = await bootTestApp({ DATABASE_URL: db.url, STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET });
    ds = t.app.get(DataSource);
    gateway = t.app.get(StripeGateway);
    doc = (await api(t)('GET', '/docs-json')).body;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('webhook payloads that verify but are not Stripe events', () => {
    const signed = (payload: string) =>
      t.app.inject({
        method: 'POST',
        url: '/connect/webhooks',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: PLATFORM_SECRET }),
        },
        payload,
      });

    it.each([
      ['no id', { type: 'customer.created', object: 'event', data: { object: {} } }],
      ['no type', { id: 'evt_hostile_no_type', object: 'event', data: { object: {} } }],
      ['an array', [1, 2]],
      ['a string', 'evt'],
      [
        'NUL in a field',
        { id: 'evt_hostile_nul', type: 'customer.created', data: { object: { name: 'a\u0000' } } },
      ],
      [
        'a lone surrogate',
        { id: 'evt_hostile_sur', type: 'customer.created', data: { object: { name: '\ud800' } } },
      ],
    ])('%s → 400 WebhookInvalid, stored nowhere, audited like a bad signature', async (_name, body) => {
      const before = await ds.query(`SELECT count(*)::int AS n FROM stripe_webhook_events`);
      const audits = await ds.query(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'webhook.signature_failed'`,
      );
      const res = await signed(JSON.stringify(body));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: ErrorCode.WebhookInvalid,
        details: { reason: 'not_an_event' },
      });
      expect(await ds.query(`SELECT count(*)::int AS n FROM stripe_webhook_events`)).toEqual(before);
      for (let i = 0; i < 50; i++) {
        const [{ n }] = await ds.query(
          `SELECT count(*)::int AS n FROM audit_log WHERE action = 'webhook.signature_failed'`,
        );
        if (n === audits[0].n + 1) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no webhook.signature_failed audit row');
    });
  });

  describe('text PostgreSQL cannot store, or that is not Unicode → 400 ValidationFailed naming the field', () => {
    it.each([
      ['GET', '/connect/audit-log?action=a%00b', undefined, 'action'],
      ['GET', '/connect/api-keys?tenant_id=t%00', undefined, 'tenant_id'],
      ['GET', '/connect/payments?status=%00', undefined, 'status'],
      ['GET', '/connect/accounts/ten%00ant', undefined, 'tenantId'],
      ['POST', '/connect/routing/rule-sets', { name: 'n\u0000', rules: [], default: {} }, 'name'],
      [
        'POST',
        '/connect/routing/rule-sets',
        { name: 'n', rules: [], default: { note: { ['k\u0000']: 1 } } },
        'default.note',
      ],
      ['POST', '/connect/accounts/tenant_x/onboarding', { email: 'a\ud800@example.com' }, 'email'],
      ['GET', '/connect/payments?cursor=%ED%A0%80', undefined, null],
    ])('%s %s', async (method, url, body, field) => {
      const res = await call(method, url, body);
      if (field === null) {
        // Invalid percent-encoding in a query stays literal text: refused by the list's own cursor check.
        expect(res.status).toBe(400);
        return;
      }
      expectServiceError(res, 400, ErrorCode.ValidationFailed);
      expect(res.body.details.fields[0].field).toBe(field);
    });
  });

  describe("Fastify's own refusals leave as documented ServiceErrors", () => {
    it('an 8,000-character id in a path → 414 UriTooLong', async () => {
      const res = await call('GET', `/connect/events/${'e'.repeat(8000)}`);
      expectServiceError(res, 414, ErrorCode.UriTooLong);
      expect(doc.paths['/connect/events/{id}'].get.responses['414']).toBeDefined();
    });

    it('a path that is not UTF-8 → 400 ValidationFailed naming the path', async () => {
      const res = await call('GET', '/connect/events/%ED%A0%80');
      expectServiceError(res, 400, ErrorCode.ValidationFailed);
      expect(res.body.details.fields[0].field).toBe('path');
    });

    it('malformed JSON, a body too large, an unsupported media type', async () => {
      const bad = await api(t)('POST', '/connect/routing/rule-sets', { token: platform(), body: '{"name":' });
      expectServiceError(bad, 400, ErrorCode.MalformedRequest);
      const big = await call('POST', '/connect/routing/rule-sets', { name: 'x'.repeat(2 * 1024 * 1024) });
      expectServiceError(big, 413, ErrorCode.PayloadTooLarge);
      const media = await api(t)('POST', '/connect/routing/rule-sets', {
        token: platform(),
        body: 'name=x',
        contentType: 'text/csv',
      });
      expectServiceError(media, 415, ErrorCode.UnsupportedMediaType);
    });

    it.each([
      ['/connect/event-subscriptions/{id}/enable'],
      ['/connect/webhooks/events/{id}/replay'],
      ['/connect/routing/rule-sets/{id}/validate'],
      ['/connect/api-keys/{id}/rotate'],
      ['/connect/routing/rollback'],
    ])('a malformed body sent to %s, which takes none, is a documented 400', async (path) => {
      const res = await api(t)('POST', path.replace('{id}', '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90'), {
        token: platform(),
        body: '{',
      });
      expectServiceError(res, 400, ErrorCode.MalformedRequest);
      expect(doc.paths[path].post.responses['400'].content['application/json'].examples).toHaveProperty(
        ErrorCode.MalformedRequest,
      );
    });
  });

  describe('concurrent operations on one object', () => {
    async function subscription(): Promise<{ id: string; sub: string; acct: string }> {
      const { tenant, acct } = await connectTenant(t, { prefix: 'hsub' });
      const price = await gateway.createPrice(
        { unit_amount: 900, currency: 'usd', recurring: { interval: 'month' }, product_data: { name: 'P' } },
        { stripeAccount: acct },
      );
      const customer = await gateway.createCustomer({ email: 'h@example.com' }, { stripeAccount: acct });
      const res = await call('POST', '/connect/subscriptions', {
        tenant_id: tenant,
        customer: customer.id,
        price: price.id,
        default_payment_method: 'pm_card_visa',
      });
      expect(res.status).toBe(201);
      const row = await ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: res.body.id });
      return { id: res.body.id, sub: row.stripe_object_id!, acct };
    }

    it('two cancels of one subscription, by route id and by sub_ id: one Stripe call, the same answer', async () => {
      for (let round = 0; round < 3; round++) {
        const { id, sub } = await subscription();
        const [a, b] = await Promise.all([
          call('DELETE', `/connect/subscriptions/${id}`),
          call('DELETE', `/connect/subscriptions/${sub}`),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        expect(a.body).toEqual(b.body);
        expect(a.body.status).toBe('canceled');
        expect(await stripeCalls('DELETE', `/v1/subscriptions/${sub}`)).toBe(1);
      }
    });

    it('two refunds of one payment at once: one Stripe refund; with one Idempotency-Key, the same answer', async () => {
      const { tenant, acct } = await connectTenant(t, { prefix: 'href' });
      const pay = async () => {
        const route = await createPayment(t, { tenant, amount: 2_000, token: platform() });
        await ds.getRepository(PaymentRouteEntity).update({ id: route.id }, { stripe_status: 'succeeded' });
        return route as typeof route & { payment_intent: { id: string } };
      };
      const refunds = async (pi: string) =>
        (await gateway.listRefunds({ payment_intent: pi }, { stripeAccount: acct })).data.length;

      const p1 = await pay();
      const [a, b] = await Promise.all([
        call('POST', `/connect/payments/${p1.id}/refunds`, {}),
        call('POST', `/connect/payments/${p1.id}/refunds`, {}),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 400]);
      expect(await refunds(p1.payment_intent.id)).toBe(1);

      const p2 = await pay();
      const key = { 'idempotency-key': `refund-${p2.id}` };
      const [c, d] = await Promise.all([
        call('POST', `/connect/payments/${p2.id}/refunds`, { amount: 500 }, key),
        call('POST', `/connect/payments/${p2.id}/refunds`, { amount: 500 }, key),
      ]);
      expect([c.status, d.status]).toEqual([201, 201]);
      expect(c.body).toEqual(d.body);
      expect(await refunds(p2.payment_intent.id)).toBe(1);
    });

    it('two activations of one rule set at once: one switch, one event, the same answer', async () => {
      const created = await call('POST', '/connect/routing/rule-sets', {
        name: 'twice',
        rules: [],
        default: {},
      });
      expect(created.status).toBe(201);
      const [a, b] = await Promise.all([
        call('POST', `/connect/routing/rule-sets/${created.body.id}/activate`),
        call('POST', `/connect/routing/rule-sets/${created.body.id}/activate`),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body).toEqual(b.body);
      const events = await ds.query(
        `SELECT count(*)::int AS n FROM connect_events WHERE type = 'connect.routing.activated' AND data->>'rule_set_id' = $1`,
        [created.body.id],
      );
      expect(events).toEqual([{ n: 1 }]);
    });
  });

  it('a PaymentIntent Stripe made and then refused to confirm stays on the route with its state', async () => {
    const { tenant, acct } = await connectTenant(t, { prefix: 'hpi' });
    const res = await call('POST', '/connect/payments', {
      tenant_id: tenant,
      payment_data: { amount: 1_234, currency: 'usd', confirm: true },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const id = res.body.details.payment_route_id as string;
    const row = await ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id });
    expect(row.status).toBe('failed');
    const held = await gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
    const ours = held.data.filter((pi) => pi.metadata?.payment_route_id === id);
    expect(ours).toHaveLength(1);
    expect(row.stripe_payment_intent_id).toBe(ours[0].id);
    expect(row.stripe_status).toBe(ours[0].status);
  });
});

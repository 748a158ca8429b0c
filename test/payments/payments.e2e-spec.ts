import { DataSource } from 'typeorm';
import { ConnectAccountEntity, ConnectAccountStatus, PaymentRouteEntity } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { PaymentsWebhookHandlers } from '../../apps/connect-service/src/payments/payments-webhook.handlers';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { connectTenant as connectAccount, PaymentRoute } from '../support/factory';
import { ErrorCode } from '@app/common';
import { eventually } from '../utils/eventually';
import { api } from '../support/http';

jest.setTimeout(120_000);

type Route = PaymentRoute;

describe('payments against the emulator', () => {
  let t: TestApp;
  let gateway: StripeGateway;
  let ds: DataSource;
  const platform = (): string => t.token({ sub: 'platform-backend', roles: ['platform'] });

  beforeAll(async () => {
    t = await bootTestApp(
      {
        PLATFORM_FEE_BASIS_POINTS: '290',
        PLATFORM_FEE_FIXED: 'usd:30,jpy:30,kwd:90',
        PAYMENTS_RECONCILE_DELAY_SECONDS: '1',
        STRIPE_TIMEOUT_MS: '1500',
      },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    gateway = t.app.get(StripeGateway);
    ds = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  const connectTenant = (columns: Partial<ConnectAccountEntity> = {}) =>
    connectAccount(t, { prefix: 'pay', columns });

  async function post(
    path: string,
    body: unknown,
    key?: string,
    token = platform(),
  ): Promise<{ status: number; body: Route & { code?: string; details?: Record<string, unknown> } }> {
    return api(t)<Route & { code?: string; details?: Record<string, unknown> }>('POST', path, {
      token,
      headers: key ? { 'idempotency-key': key } : {},
      body,
    });
  }

  async function get<T = Route>(path: string, token = platform()): Promise<{ status: number; body: T }> {
    return api(t)<T>('GET', path, { token });
  }

  const until = (id: string, status: string, timeoutMs = 20_000): Promise<Route> =>
    eventually(
      `route ${id} to be ${status}`,
      async () => {
        const r = await get(`/connect/payments/${id}`);
        return r.body.status === status ? r.body : null;
      },
      { timeoutMs, intervalMs: 200 },
    );

  const pay = (tenant: string, amount: number, currency: string, extra: Record<string, unknown> = {}) => ({
    tenant_id: tenant,
    payment_data: { amount, currency, payment_method: 'pm_card_visa', confirm: true, ...extra },
  });

  it.each([
    ['direct', 'usd', 10_000, 320],
    ['direct', 'jpy', 1_000, 59],
    ['direct', 'kwd', 10_000, 380],
    ['destination', 'usd', 10_000, 320],
    ['destination', 'jpy', 5_000, 175],
  ])(
    '%s charge in %s completes through webhooks with the right fee',
    async (chargeType, currency, amount, fee) => {
      const { tenant, acct } = await connectTenant();
      const res = await post(
        '/connect/payments',
        pay(tenant, amount, currency, { charge_type: chargeType }),
        `k-${tenant}`,
      );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        tenant_id: tenant,
        stripe_account_id: acct,
        amount,
        fee,
        currency,
        charge_type: chargeType,
      });
      expect(res.body.payment_intent.id).toMatch(/^pi_/);
      expect(res.body.payment_intent.client_secret).toMatch(/_secret_/);
      const done = await until(res.body.id, 'completed');
      expect(done.payment_intent.status).toBe('succeeded');
      const pi = await gateway.retrievePaymentIntent(
        res.body.payment_intent.id!,
        chargeType === 'direct' ? { stripeAccount: acct } : {},
      );
      expect(pi.application_fee_amount).toBe(fee);
      if (chargeType === 'destination') expect(pi.transfer_data?.destination).toBe(acct);
    },
  );

  it('refuses bad amounts and currencies naming the field', async () => {
    const { tenant } = await connectTenant();
    for (const [amount, currency, field] of [
      [49, 'usd', 'payment_data.amount'],
      [100_000_000, 'usd', 'payment_data.amount'],
      [10_005, 'kwd', 'payment_data.amount'],
      [1000, 'xyz', 'payment_data.currency'],
      [10.5, 'usd', 'payment_data.amount'],
    ] as const) {
      const res = await post('/connect/payments', pay(tenant, amount, currency));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(ErrorCode.ValidationFailed);
      expect(JSON.stringify(res.body.details)).toContain(field);
    }
  });

  it('marks a declined card failed with the decline code', async () => {
    const { tenant } = await connectTenant();
    const res = await post(
      '/connect/payments',
      pay(tenant, 2_000, 'usd', { payment_method: 'pm_card_chargeDeclined' }),
    );
    expect(res.status).toBe(402);
    expect(res.body.code).toBe(ErrorCode.CardDeclined);
    expect(res.body.details?.decline_code).toBe('generic_decline');
    const list = await get<{ data: Route[] }>(`/connect/payments?tenant_id=${tenant}&status=failed`);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0].failure_code).toBe('generic_decline');
  });

  it('refuses inactive, charge-disabled and disconnected accounts with CONNECT_001 before Stripe', async () => {
    const cases = [
      { status: ConnectAccountStatus.Restricted },
      { charges_enabled: false },
      { disconnected_at: new Date() },
    ];
    for (const overrides of cases) {
      const { tenant, acct } = await connectTenant(overrides);
      const res = await post('/connect/payments', pay(tenant, 2_000, 'usd'));
      expect(res.status).toBe(422);
      expect(res.body.code).toBe(ErrorCode.AccountInvalid);
      const requests = await emulatorRequests(t.emulatorUrl!, { path: '/v1/payment_intents' });
      expect(requests.filter((r) => r.stripe_account === acct)).toHaveLength(0);
    }
  });

  it('ten concurrent requests with one key: one PaymentIntent, ten identical answers', async () => {
    const { tenant, acct } = await connectTenant();
    const body = pay(tenant, 4_200, 'usd');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post('/connect/payments', body, `same-${tenant}`)),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    const pis = await gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
    expect(pis.data).toHaveLength(1);
    expect(await ds.getRepository(PaymentRouteEntity).countBy({ tenant_id: tenant })).toBe(1);

    const other = await post('/connect/payments', pay(tenant, 4_300, 'usd'), `same-${tenant}`);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe(ErrorCode.IdempotencyKeyReused);
  });

  it('the emulator failing the first two creates: still exactly one PaymentIntent', async () => {
    const { tenant, acct } = await connectTenant();
    await emulatorControl(t.emulatorUrl!, '/faults', {
      path: '/v1/payment_intents',
      method: 'POST',
      count: 2,
      status: 500,
    });
    const res = await post('/connect/payments', pay(tenant, 3_000, 'usd'), `flaky-${tenant}`);
    expect([201, 202]).toContain(res.status);
    await until(res.body.id, 'completed');
    const pis = await gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
    expect(pis.data).toHaveLength(1);
  });

  it('a timeout on create, then the same request: one PaymentIntent, the route ends completed', async () => {
    const { tenant, acct } = await connectTenant();
    // 'after': Stripe processed the create but the answers come too late for the gateway's timeout.
    await emulatorControl(t.emulatorUrl!, '/faults', {
      path: '/v1/payment_intents',
      method: 'POST',
      count: 4,
      delay_ms: 2_500,
      mode: 'after',
    });
    const body = pay(tenant, 2_500, 'usd');
    const first = await post('/connect/payments', body, `slow-${tenant}`);
    expect([201, 202]).toContain(first.status);
    const again = await post('/connect/payments', body, `slow-${tenant}`);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    await emulatorControl(t.emulatorUrl!, '/faults', undefined, 'DELETE');
    await until(first.body.id, 'completed', 60_000);
    const pis = await gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
    expect(pis.data).toHaveLength(1);
  });

  it('Stripe unreachable after the create went out: 202 pending, then reconciled by the same key to one PaymentIntent', async () => {
    const { tenant, acct } = await connectTenant();
    // Webhooks held back, so only the reconcile job can learn the PaymentIntent.
    await emulatorControl(t.emulatorUrl!, '/webhooks/pause', {});
    // Every attempt is processed by "Stripe" but answered with a 500: the gateway gives up, the outcome is unknown.
    await emulatorControl(t.emulatorUrl!, '/faults', {
      path: '/v1/payment_intents',
      method: 'POST',
      count: 20,
      status: 500,
      mode: 'after',
    });
    const body = pay(tenant, 7_700, 'usd');
    const first = await post('/connect/payments', body, `lost-${tenant}`);
    await emulatorControl(t.emulatorUrl!, '/faults', undefined, 'DELETE');
    expect(first.status).toBe(202);
    expect(first.body.status).toBe('pending');
    expect(first.body.payment_intent.id).toBeNull();
    const again = await post('/connect/payments', body, `lost-${tenant}`);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const reconciled = await eventually(
      'the reconciled PaymentIntent',
      async () => {
        const r = (await get(`/connect/payments/${first.body.id}`)).body;
        return r.payment_intent.id ? r : null;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(reconciled.payment_intent.status).toBe('succeeded');
    await emulatorControl(t.emulatorUrl!, '/webhooks/resume', {});
    const done = await until(first.body.id, 'completed', 60_000);
    const pis = await gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
    expect(pis.data).toHaveLength(1);
    expect(done.payment_intent.id).toBe(pis.data[0].id);
  });

  it('partial plus full refunds add up; an over-refund is refused; another tenant gets 404', async () => {
    const { tenant } = await connectTenant();
    const paid = await post('/connect/payments', pay(tenant, 5_000, 'usd'));
    await until(paid.body.id, 'completed');
    const partial = await post(
      `/connect/payments/${paid.body.id}/refunds`,
      { amount: 2_000 },
      `r1-${tenant}`,
    );
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({ type: 'refund', amount: 2_000, status: 'completed' });
    const over = await post(`/connect/payments/${paid.body.id}/refunds`, { amount: 3_001 });
    expect(over.status).toBe(400);
    expect(over.body.code).toBe(ErrorCode.ValidationFailed);
    const rest = await post(`/connect/payments/${paid.body.id}/refunds`, {});
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe(3_000);
    const more = await post(`/connect/payments/${paid.body.id}/refunds`, { amount: 1 });
    expect(more.status).toBe(400);

    const stranger = t.token({ sub: 'other', tenant_id: uniqueTenant('other'), roles: ['admin'] });
    expect((await get(`/connect/payments/${paid.body.id}`, stranger)).status).toBe(404);
    const own = t.token({ sub: 'own', tenant_id: tenant, roles: ['viewer'] });
    expect((await get(`/connect/payments/${paid.body.id}`, own)).status).toBe(200);
  });

  it('a refund whose outcome is unknown stays pending, then is reconciled by the same key to one Refund', async () => {
    const { tenant, acct } = await connectTenant();
    const paid = await post('/connect/payments', pay(tenant, 6_000, 'usd'));
    await until(paid.body.id, 'completed');
    await emulatorControl(t.emulatorUrl!, '/webhooks/pause', {});
    await emulatorControl(t.emulatorUrl!, '/faults', {
      path: '/v1/refunds',
      method: 'POST',
      count: 20,
      status: 500,
      mode: 'after',
    });
    const refund = await post(`/connect/payments/${paid.body.id}/refunds`, { amount: 1_000 });
    await emulatorControl(t.emulatorUrl!, '/faults', undefined, 'DELETE');
    expect(refund.status).toBe(202);
    expect(refund.body.status).toBe('pending');
    // The pending refund already counts: the rest is 5 000.
    expect((await post(`/connect/payments/${paid.body.id}/refunds`, { amount: 5_001 })).status).toBe(400);
    const done = await until(refund.body.id, 'completed', 60_000);
    expect(done).toMatchObject({ type: 'refund', amount: 1_000 });
    await emulatorControl(t.emulatorUrl!, '/webhooks/resume', {});
    const res = await fetch(`${t.emulatorUrl}/v1/refunds?payment_intent=${paid.body.payment_intent.id}`, {
      headers: { authorization: 'Bearer sk_test_demo', 'stripe-account': acct },
    });
    const refunds = (await res.json()) as { data: { id: string }[] };
    expect(refunds.data).toHaveLength(1);
    const metrics = (await api(t)('GET', '/metrics')).raw;
    expect(metrics).toMatch(/connect_payments_total\{[^}]*outcome="completed"[^}]*\} \d+/);
    expect(metrics).toMatch(/connect_payment_volume_minor_total\{currency="usd"\} \d+/);
    expect(metrics).toMatch(/connect_payment_fees_minor_total\{currency="usd"\} \d+/);
  });

  it('records a dispute on the route, and never moves a completed payment back', async () => {
    const { tenant } = await connectTenant();
    const paid = await post('/connect/payments', pay(tenant, 8_000, 'usd'));
    await until(paid.body.id, 'completed');
    const route = await ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: paid.body.id });
    expect(route.stripe_object_id).toMatch(/^ch_/);
    await emulatorControl(t.emulatorUrl!, `/charges/${route.stripe_object_id}/dispute`, {});
    const disputed = await eventually(
      'the dispute on the route',
      async () => {
        const r = await ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: paid.body.id });
        return r.stripe_details.dispute ? r : null;
      },
      { intervalMs: 200 },
    );
    expect(disputed.stripe_details.dispute).toMatchObject({ id: expect.stringMatching(/^dp_|^du_/) });
    const events = await get<{ data: { type: string }[] }>(`/connect/events?tenant_id=${tenant}&limit=100`);
    expect(events.body.data.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'connect.payment.routed',
        'connect.payment.completed',
        'connect.dispute.created',
      ]),
    );

    // A late payment_failed (newer or older) must not undo the completion.
    const handlers = t.app.get(PaymentsWebhookHandlers);
    const event = (type: string, created: number) =>
      ({
        id: `evt_test_${created}`,
        type,
        created,
        data: {
          object: {
            id: paid.body.payment_intent.id,
            object: 'payment_intent',
            status: 'requires_payment_method',
            metadata: { payment_route_id: paid.body.id },
          },
        },
      }) as unknown as Parameters<PaymentsWebhookHandlers['onPaymentIntent']>[0]['event'];
    const now = Math.floor(Date.now() / 1000);
    for (const [created, outcome] of [
      [now + 60, 'skipped'],
      [now - 3600, 'stale'],
    ] as const) {
      const result = await ds.transaction((manager) =>
        handlers.onPaymentIntent({
          manager,
          event: event('payment_intent.payment_failed', created),
          tenantId: tenant,
          inboxId: 'test',
        }),
      );
      expect(result).toBe(outcome);
    }
    expect((await get(`/connect/payments/${paid.body.id}`)).body.status).toBe('completed');
  });

  it('lists with keyset pagination scoped to the tenant', async () => {
    const { tenant } = await connectTenant();
    for (let i = 0; i < 3; i++)
      expect((await post('/connect/payments', pay(tenant, 1_000 + i, 'usd'))).status).toBe(201);
    const own = t.token({ sub: 'own', tenant_id: tenant, roles: ['viewer'] });
    const first = await get<{ data: Route[]; has_more: boolean; next_cursor: string }>(
      `/connect/payments?limit=2`,
      own,
    );
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const second = await get<{ data: Route[]; has_more: boolean }>(
      `/connect/payments?limit=2&cursor=${first.body.next_cursor}`,
      own,
    );
    expect(second.body.data).toHaveLength(1);
    expect(second.body.has_more).toBe(false);
    expect(new Set([...first.body.data, ...second.body.data].map((r) => r.amount))).toEqual(
      new Set([1_000, 1_001, 1_002]),
    );
  });

  it('creates and cancels a subscription on the connected account', async () => {
    const { tenant, acct } = await connectTenant();
    const price = await gateway.createPrice(
      {
        unit_amount: 1_500,
        currency: 'usd',
        recurring: { interval: 'month' },
        product_data: { name: 'Pro' },
      },
      { stripeAccount: acct },
    );
    const customer = await gateway.createCustomer({ email: 'a@example.com' }, { stripeAccount: acct });
    const sub = await post('/connect/subscriptions', {
      tenant_id: tenant,
      customer: customer.id,
      price: price.id,
      application_fee_percent: 10,
      default_payment_method: 'pm_card_visa',
    });
    expect(sub.status).toBe(201);
    expect(sub.body).toMatchObject({ type: 'subscription', amount: 1_500, currency: 'usd' });
    const res = await api(t)<Route>('DELETE', `/connect/subscriptions/${sub.body.id}`, { token: platform() });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('canceled');
  });
});

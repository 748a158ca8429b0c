import { DataSource } from 'typeorm';
import { ErrorCode } from '@app/common';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { postPayment } from '../support/factory';

describe('Accounts v2: create, onboarding through v2 links, charges, embedded sessions', () => {
  let t: TestApp;
  let db: DataSource;
  let gateway: StripeGateway;

  beforeAll(async () => {
    t = await bootTestApp({}, undefined, { listen: true, registerWebhooks: true });
    db = t.app.get(DataSource);
    gateway = t.app.get(StripeGateway);
  });
  afterAll(async () => t?.close());

  const as = (tenant: string, role: 'viewer' | 'operator' | 'admin') => ({
    authorization: `Bearer ${t.token({ tenant_id: tenant, roles: [role] })}`,
  });
  const platform = () => ({ authorization: `Bearer ${t.token({ roles: ['platform'] })}` });
  const body = {
    country: 'US',
    email: 'owner@v2.test',
    display_name: 'V2 Bikes',
    entity_type: 'company',
    configurations: ['merchant', 'recipient'],
    dashboard: 'express',
    responsibilities: { fees_collector: 'stripe', losses_collector: 'stripe' },
  };
  const eventsOf = async (tenant: string, type: string) =>
    (await db.query(
      `SELECT data FROM connect_events WHERE tenant_id = $1 AND type = $2 ORDER BY created_at`,
      [tenant, type],
    )) as Array<{ data: Record<string, unknown> }>;

  async function onboarded(create: object = body): Promise<{ tenant: string; acct: string }> {
    const tenant = uniqueTenant('v2');
    const created = await api(t)('POST', `/connect/accounts/${tenant}`, {
      headers: as(tenant, 'admin'),
      body: create,
    });
    expect(created.status).toBe(201);
    const link = await api(t)('POST', `/connect/accounts/${tenant}/onboarding`, {
      headers: as(tenant, 'admin'),
      body: { return_url: 'https://platform.example/done', refresh_url: 'https://platform.example/retry' },
    });
    expect(link.status).toBe(201);
    const visit = await fetch(link.body.url, { redirect: 'manual' });
    expect(visit.status).toBe(302);
    await eventually('active after the v2 link', async () => {
      const res = await api(t)('GET', `/connect/accounts/${tenant}`, { headers: as(tenant, 'viewer') });
      return res.body.status === 'active' ? res : null;
    });
    return { tenant, acct: created.body.stripe_account_id };
  }

  it('two concurrent creates make one Stripe account; the second answers it with 200', async () => {
    const tenant = uniqueTenant('v2dup');
    const [a, b] = await Promise.all(
      [1, 2].map(() => api(t)('POST', `/connect/accounts/${tenant}`, { headers: as(tenant, 'admin'), body })),
    );
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.stripe_account_id).toBe(b.body.stripe_account_id);
    const creates = await emulatorRequests(t.emulatorUrl!, { path: '/v2/core/accounts', method: 'POST' });
    const mine = await gateway.v2.retrieveAccount(a.body.stripe_account_id);
    expect(mine.metadata).toMatchObject({ tenant_id: tenant });
    expect(creates.length).toBeGreaterThanOrEqual(1);
    expect(a.body).toMatchObject({
      api_version: 'v2',
      dashboard: 'express',
      responsibilities: { fees_collector: 'stripe', losses_collector: 'stripe' },
      status: 'pending',
    });
    expect(Object.keys(a.body.configurations).sort()).toEqual(['merchant', 'recipient']);
    expect(a.body.configurations.merchant.capabilities).toHaveProperty('card_payments');
    expect(a.body.requirements.entries.length).toBeGreaterThan(0);
    expect(a.body.requirements.entries[0]).toEqual(
      expect.objectContaining({
        field: expect.any(String),
        due: expect.any(String),
        restricts: expect.any(Array),
      }),
    );
    const again = await api(t)('POST', `/connect/accounts/${tenant}`, { headers: as(tenant, 'admin'), body });
    expect(again.status).toBe(200);
    expect(again.body.stripe_account_id).toBe(a.body.stripe_account_id);
    expect((await eventsOf(tenant, 'connect.account.requirements_due')).length).toBe(1);
  });

  it('refuses a documented invalid combination before Stripe', async () => {
    const tenant = uniqueTenant('v2bad');
    const res = await api(t)('POST', `/connect/accounts/${tenant}`, {
      headers: as(tenant, 'admin'),
      body: { ...body, responsibilities: { fees_collector: 'stripe', losses_collector: 'application' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(ErrorCode.AccountConfigurationInvalid);
    expect(res.body.details.rule).toBe('losses_need_application_fees');
    const cap = await api(t)('POST', `/connect/accounts/${tenant}`, {
      headers: as(tenant, 'admin'),
      body: { ...body, configurations: ['merchant'], capabilities: ['stripe_balance.stripe_transfers'] },
    });
    expect(cap.status).toBe(400);
    expect(cap.body.details.rule).toBe('capability_needs_configuration');
    expect((await db.query(`SELECT 1 FROM connect_accounts WHERE tenant_id = $1`, [tenant])).length).toBe(0);
  });

  it('onboards through a v2 link, then takes a destination and a direct charge', async () => {
    const { tenant, acct } = await onboarded();
    expect((await eventsOf(tenant, 'connect.account.connected')).length).toBe(1);
    const cleared = await eventsOf(tenant, 'connect.account.requirements_cleared');
    expect(cleared.length).toBe(1);
    const update = await api(t)('POST', `/connect/accounts/${tenant}/onboarding`, {
      headers: as(tenant, 'admin'),
      body: { return_url: 'https://platform.example/done', refresh_url: 'https://platform.example/retry' },
    });
    expect(update.status).toBe(201);
    const posts = async (path: string) =>
      (await emulatorRequests(t.emulatorUrl!, { path: path, method: 'POST' })).length;
    // Both links went to /v2/core/account_links (the second as `account_update`), none to v1.
    expect(await posts('/v2/core/account_links')).toBeGreaterThanOrEqual(2);
    expect(await posts('/v1/account_links')).toBe(0);
    expect(update.body.stripe_account_id).toBe(acct);

    for (const chargeType of ['destination', 'direct'] as const) {
      const res = await postPayment(t, {
        tenant,
        amount: 10_000,
        charge_type: chargeType,
        headers: as(tenant, 'admin'),
        idempotencyKey: `v2-${chargeType}-${tenant}`,
      });
      expect(res.status).toBe(201);
      const pi = await gateway.retrievePaymentIntent(
        res.body.payment_intent.id!,
        chargeType === 'direct' ? { stripeAccount: acct } : {},
      );
      expect(pi.amount).toBe(10_000);
      if (chargeType === 'destination') expect(pi.transfer_data?.destination).toBe(acct);
      expect(pi.application_fee_amount).toBe(res.body.fee);
    }
  });

  it('refuses a charge its configurations do not allow, before Stripe', async () => {
    const { tenant } = await onboarded({ ...body, configurations: ['recipient'] });
    const paymentIntents = async () =>
      (await emulatorRequests(t.emulatorUrl!, { path: '/v1/payment_intents', method: 'POST' })).length;
    const before = await paymentIntents();
    const res = await api(t)('POST', '/connect/payments', {
      headers: { ...as(tenant, 'admin'), 'idempotency-key': `v2-direct-${tenant}` },
      body: { tenant_id: tenant, payment_data: { amount: 1000, currency: 'usd', charge_type: 'direct' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe(ErrorCode.ChargeTypeNotAllowed);
    expect(res.body.details.requires).toBe('merchant.card_payments');
    expect(await paymentIntents()).toBe(before);
  });

  it('an Account Session per role grants what the policy allows, and the secret is stored nowhere', async () => {
    const { tenant, acct } = await onboarded();
    const components = {
      payments: { features: { refund_management: true, dispute_management: true } },
      payouts: { features: { instant_payouts: true, edit_payout_schedule: true } },
      account_management: {},
    };
    const byRole: Record<string, { status: number; body: Record<string, any> }> = {};
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      byRole[role] = await api(t)('POST', `/connect/accounts/${tenant}/sessions`, {
        headers: as(tenant, role),
        body: { components },
      });
      expect(byRole[role].status).toBe(201);
      expect(byRole[role].body.client_secret).toEqual(expect.any(String));
      expect(Date.parse(byRole[role].body.expires_at)).toBeGreaterThan(Date.now());
    }
    const { viewer, operator, admin } = byRole;
    expect(viewer.body.components.payments.features).toMatchObject({
      refund_management: false,
      dispute_management: false,
    });
    expect(viewer.body.components.payouts).toBeUndefined();
    expect(viewer.body.components.account_management).toBeUndefined();
    expect(viewer.body.refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ component: 'payments', feature: 'refund_management' }),
        expect.objectContaining({ component: 'account_management' }),
      ]),
    );
    expect(operator.body.components.payments.features).toMatchObject({ refund_management: true });
    expect(operator.body.components.account_management).toBeUndefined();
    expect(admin.body.components.payouts.features).toMatchObject({
      instant_payouts: true,
      edit_payout_schedule: true,
    });
    expect(admin.body.components.account_management.enabled).toBe(true);

    // What Stripe holds for the session is what we answered; its secret works once (Connect.js claims it).
    const claimed = await emulatorControl<{ account: string; components: Record<string, any> }>(
      t.emulatorUrl!,
      'account_sessions/claim',
      { client_secret: viewer.body.client_secret },
    );
    expect(claimed.account).toBe(acct);
    expect(claimed.components.payments.features.refund_management).toBe(false);

    const secrets = [viewer, operator, admin].map((r) => r.body.client_secret as string);
    // Audit rows are written after the answer: wait for the three.
    const audit = await eventually('three audit rows', async () => {
      const rows = await db.query(
        `SELECT * FROM audit_log WHERE tenant_id = $1 AND action = 'account.session.create'`,
        [tenant],
      );
      return rows.length === 3 ? rows : null;
    });
    expect(audit).toHaveLength(3);
    const everything = JSON.stringify([
      audit,
      await db.query(`SELECT * FROM connect_events WHERE tenant_id = $1`, [tenant]),
      await db.query(`SELECT * FROM idempotency_records`),
    ]);
    for (const s of secrets) expect(everything).not.toContain(s);
  });

  it('lists accounts for the platform with filters, and only for the platform', async () => {
    const res = await api(t)('GET', '/connect/accounts?limit=5', { headers: platform() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({ data: expect.any(Array), has_more: expect.any(Boolean) }),
    );
    const tenant = uniqueTenant('v2list');
    const denied = await api(t)('GET', '/connect/accounts', { headers: as(tenant, 'admin') });
    expect(denied.status).toBe(403);
  });
});

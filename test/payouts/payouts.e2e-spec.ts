import { ErrorCode } from '@app/common';
import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { PayoutReconciler } from '../../apps/connect-service/src/payouts/payout-reconciler.service';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { platformToken } from '../support/factory';
import { availableUsd, connectVerifiedTenant, eventTypes, paidRoute } from './money-support';

jest.setTimeout(180_000);

interface Payout {
  id: string;
  stripe_payout_id: string;
  amount: number;
  status: string;
  method: string;
  automatic: boolean;
  failure_code: string | null;
  failure_message: string | null;
  reconciliation_status: string;
  code?: string;
  details?: Record<string, unknown>;
}

describe('balances and payouts, against the emulator', () => {
  let t: TestApp;
  let gateway: StripeGateway;

  beforeAll(async () => {
    t = await bootTestApp({ BALANCE_CACHE_SECONDS: '0' }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
    gateway = t.app.get(StripeGateway);
  });
  afterAll(async () => t?.close());

  const call = <T = Payout>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    api(t)<T>(method, path, { token: platformToken(t), body, headers });

  const payoutWhere = (tenant: string, pred: (p: Payout) => boolean, what: string): Promise<Payout> =>
    eventually(
      what,
      async () => {
        const list = await call<{ data: Payout[] }>('GET', `/connect/accounts/${tenant}/payouts`);
        return list.body.data.find(pred) ?? null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  async function stripePayoutCalls(): Promise<number> {
    const data = await emulatorRequests(t.emulatorUrl!, { path: '/v1/payouts', method: 'POST' });
    return data.filter((r) => r.path === '/v1/payouts').length;
  }

  it('answers the balance Stripe holds; a manual payout is refused before Stripe, then paid out and canceled', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'po');
    await paidRoute(t, tenant, 10_000, 'direct');
    const available = await availableUsd(t, acct);
    expect(available).toBeGreaterThan(0);
    const balance = await call<{ balances: Array<Record<string, number | string | null>>; stale: boolean }>(
      'GET',
      `/connect/accounts/${tenant}/balance`,
    );
    expect(balance.status).toBe(200);
    expect(balance.body.stale).toBe(false);
    expect(balance.body.balances).toEqual([
      { currency: 'usd', available, pending: 0, instant_available: available },
    ]);

    // Automatic schedule: a standard payout is refused before Stripe; an over-large instant one too.
    const callsBefore = await stripePayoutCalls();
    const automatic = await call('POST', `/connect/accounts/${tenant}/payouts`, {
      amount: 100,
      currency: 'usd',
    });
    expect(automatic.status).toBe(422);
    expect(automatic.body.code).toBe(ErrorCode.PayoutNotAllowed);

    const badSchedule = await call('PUT', `/connect/accounts/${tenant}`, {
      payout_schedule: { interval: 'weekly' },
    });
    expect(badSchedule.status).toBe(400);
    const manual = await call('PUT', `/connect/accounts/${tenant}`, {
      payout_schedule: { interval: 'manual' },
    });
    expect(manual.status).toBe(200);
    expect((await gateway.retrieveAccount(acct)).settings?.payouts?.schedule.interval).toBe('manual');
    expect(manual.body).toMatchObject({ payout_schedule: { interval: 'manual', delay_days: 2 } });
    const weekly = await call('PUT', `/connect/accounts/${tenant}`, {
      payout_schedule: { interval: 'weekly', weekly_anchor: 'friday', delay_days: 3 },
    });
    expect(weekly.body).toMatchObject({
      payout_schedule: { interval: 'weekly', weekly_anchor: 'friday', delay_days: 3 },
    });
    await call('PUT', `/connect/accounts/${tenant}`, { payout_schedule: { interval: 'manual' } });
    const readBack = await call<{ payout_schedule: Record<string, unknown> }>(
      'GET',
      `/connect/accounts/${tenant}`,
    );
    expect(readBack.body.payout_schedule).toEqual({ interval: 'manual', delay_days: 3 });

    const tooMuch = await call('POST', `/connect/accounts/${tenant}/payouts`, {
      amount: available + 1,
      currency: 'usd',
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe(ErrorCode.PayoutBalanceInsufficient);
    expect(tooMuch.body.details).toMatchObject({ available, requested: available + 1, shortfall: 1 });
    expect(await stripePayoutCalls()).toBe(callsBefore);

    const created = await call(
      'POST',
      `/connect/accounts/${tenant}/payouts`,
      { amount: 3_000, currency: 'usd' },
      {
        'idempotency-key': `first-${tenant}`,
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      amount: 3_000,
      status: 'pending',
      method: 'standard',
      automatic: false,
    });
    const replay = await call(
      'POST',
      `/connect/accounts/${tenant}/payouts`,
      { amount: 3_000, currency: 'usd' },
      {
        'idempotency-key': `first-${tenant}`,
      },
    );
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(created.body.id);
    const reused = await call(
      'POST',
      `/connect/accounts/${tenant}/payouts`,
      { amount: 2_000, currency: 'usd' },
      {
        'idempotency-key': `first-${tenant}`,
      },
    );
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe(ErrorCode.IdempotencyKeyReused);
    expect(await availableUsd(t, acct)).toBe(available - 3_000);

    const canceled = await call('POST', `/connect/payouts/${created.body.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect(await availableUsd(t, acct)).toBe(available);
    // Canceling a canceled payout answers it again; a paid or in-transit one is refused (below, the instant one).
    const again = await call('POST', `/connect/payouts/${created.body.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(canceled.body);

    const instant = await call('POST', `/connect/accounts/${tenant}/payouts`, {
      amount: 1_000,
      currency: 'usd',
      method: 'instant',
    });
    expect(instant.status).toBe(201);
    expect(instant.body.method).toBe('instant');
    const instantCancel = await call('POST', `/connect/payouts/${instant.body.id}/cancel`);
    expect(instantCancel.status).toBe(409);
    expect(instantCancel.body.code).toBe(ErrorCode.PayoutNotCancelable);
    await eventually('the payout events', async () => {
      const types = (await eventTypes(t, tenant)).map((e) => e.type);
      return (
        types.filter((x) => x === 'connect.payout.created').length === 2 &&
        types.includes('connect.payout.canceled')
      );
    });
  });

  it('lists what an automatic payout contains, adding up to its amount, only once reconciled', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'por');
    const first = await paidRoute(t, tenant, 7_000, 'direct');
    const second = await paidRoute(t, tenant, 2_500, 'direct');
    await call('POST', `/connect/payments/${second.id}/refunds`, { amount: 500 });
    await eventually('the refund on the balance', async () => (await availableUsd(t, acct)) < 9_500 - 300);
    const available = await availableUsd(t, acct);

    const run = await emulatorControl<{ payouts: Array<{ id: string; amount: number }> }>(
      t.emulatorUrl!,
      `/accounts/${acct}/payouts/run`,
      { until: 'in_transit' },
    );
    expect(run.payouts).toHaveLength(1);
    expect(run.payouts[0].amount).toBe(available);
    expect(await availableUsd(t, acct)).toBe(0);
    const inTransit = await payoutWhere(tenant, (p) => p.status === 'in_transit', 'the payout in transit');
    expect(inTransit).toMatchObject({
      amount: available,
      automatic: true,
      reconciliation_status: 'in_progress',
    });
    const early = await call('GET', `/connect/payouts/${inTransit.id}/transactions`);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe(ErrorCode.PayoutNotReconciled);

    await emulatorControl(t.emulatorUrl!, `/payouts/${run.payouts[0].id}/advance`, { to: 'reconciled' });
    await payoutWhere(
      tenant,
      (p) => p.reconciliation_status === 'completed' && p.status === 'paid',
      'reconciled',
    );
    const contents = await call<{
      data: Array<{
        type: string;
        net: number;
        source: string;
        payment_id: string | null;
        refund_id: string | null;
      }>;
      totals: { net: number };
      sums_match: boolean;
    }>('GET', `/connect/payouts/${inTransit.id}/transactions`);
    expect(contents.status).toBe(200);
    expect(contents.body.sums_match).toBe(true);
    expect(contents.body.totals.net).toBe(available);
    const settled = contents.body.data.filter((x) => x.type !== 'payout');
    expect(settled.reduce((s, x) => s + x.net, 0)).toBe(available);
    expect(settled.map((x) => x.payment_id)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(settled.some((x) => x.type === 'refund' && x.refund_id !== null)).toBe(true);
    const types = (await eventTypes(t, tenant)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['connect.payout.created', 'connect.payout.paid', 'connect.payout.reconciled']),
    );
  });

  it('reconciliation finds a payout we lack and a stale status, heals both, and checks the sums', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'prc');
    await paidRoute(t, tenant, 6_000, 'direct');
    const run = await emulatorControl<{ payouts: Array<{ id: string; amount: number }> }>(
      t.emulatorUrl!,
      `/accounts/${acct}/payouts/run`,
      { until: 'reconciled' },
    );
    const ours = await payoutWhere(
      tenant,
      (p) => p.reconciliation_status === 'completed',
      'the reconciled payout',
    );
    const ds = t.app.get(DataSource);
    // Our row forgets the payout's last stages, as if those webhooks had been lost.
    await ds.query(
      `UPDATE payouts SET status = 'in_transit', reconciliation_status = 'in_progress' WHERE id = $1`,
      [ours.id],
    );
    await paidRoute(t, tenant, 1_000, 'direct');
    await emulatorControl(t.emulatorUrl!, '/webhooks/pause');
    const missed = await emulatorControl<{ payouts: Array<{ id: string }> }>(
      t.emulatorUrl!,
      `/accounts/${acct}/payouts/run`,
      {
        until: 'paid',
      },
    );
    await emulatorControl(t.emulatorUrl!, '/webhooks/resume', { discard: true });

    const reconciler = t.app.get(PayoutReconciler);
    const found = await reconciler.reconcileTenant(tenant, { heal: false, checkSums: true });
    expect(found.drift.map((d) => [d.kind, d.stripe_payout_id, d.healable]).sort()).toEqual(
      [
        ['missing_local', missed.payouts[0].id, true],
        ['status_mismatch', run.payouts[0].id, true],
      ].sort(),
    );
    const healed = await reconciler.reconcileTenant(tenant, { heal: true });
    expect(healed.healed).toBe(2);
    expect((await reconciler.reconcileTenant(tenant, { heal: false, checkSums: true })).drift).toEqual([]);
    const row = (await call('GET', `/connect/payouts/${ours.id}`)).body;
    expect(row).toMatchObject({ status: 'paid', reconciliation_status: 'completed' });
    const back = await payoutWhere(
      tenant,
      (p) => p.stripe_payout_id === missed.payouts[0].id,
      'the healed payout',
    );
    expect(back).toMatchObject({ status: 'paid' });
  });

  it('a failed payout reaches the account and a ConnectEvent; the money is back on the balance', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'pof');
    await paidRoute(t, tenant, 4_000, 'direct');
    const available = await availableUsd(t, acct);
    const run = await emulatorControl<{ payouts: Array<{ id: string }> }>(
      t.emulatorUrl!,
      `/accounts/${acct}/payouts/run`,
      { until: 'in_transit' },
    );
    await emulatorControl(t.emulatorUrl!, `/payouts/${run.payouts[0].id}/advance`, {
      to: 'failed',
      failure_code: 'account_closed',
    });
    const failed = await payoutWhere(tenant, (p) => p.status === 'failed', 'the failed payout');
    expect(failed).toMatchObject({
      failure_code: 'account_closed',
      failure_message: 'The bank account has been closed.',
    });
    expect(await availableUsd(t, acct)).toBe(available);
    const event = await eventually('connect.payout.failed', async () =>
      (await eventTypes(t, tenant)).find((e) => e.type === 'connect.payout.failed'),
    );
    expect(event.data).toMatchObject({ failure_code: 'account_closed', stripe_payout_id: run.payouts[0].id });
    const account = await eventually('payouts disabled on the account', async () => {
      const r = await call<{ payouts_enabled: boolean; requirements: { currently_due: string[] } }>(
        'GET',
        `/connect/accounts/${tenant}`,
      );
      return r.body.payouts_enabled === false ? r.body : null;
    });
    expect(account.requirements.currently_due).toContain('external_account');
  });

  it('documents every new endpoint in Swagger with its errors', async () => {
    const doc = (
      await api(t)<{
        paths: Record<
          string,
          Record<string, { responses: Record<string, unknown>; parameters?: Array<{ name: string }> }>
        >;
      }>('GET', '/docs-json')
    ).body;
    const expected: Array<[string, string, string[]]> = [
      ['/connect/accounts/{tenantId}/balance', 'get', ['200', '404']],
      ['/connect/accounts/{tenantId}/payouts', 'get', ['200', '400']],
      ['/connect/accounts/{tenantId}/payouts', 'post', ['201', '422']],
      ['/connect/payouts/{id}', 'get', ['200', '404']],
      ['/connect/payouts/{id}/cancel', 'post', ['200', '409']],
      ['/connect/payouts/{id}/transactions', 'get', ['200', '409']],
      ['/connect/disputes', 'get', ['200', '400']],
      ['/connect/disputes/{id}', 'get', ['200', '404']],
      ['/connect/disputes/{id}/evidence', 'post', ['200', '409']],
      ['/connect/disputes/{id}/accept', 'post', ['200', '409']],
    ];
    for (const [path, method, statuses] of expected) {
      expect([path, method, Object.keys(doc.paths[path]?.[method]?.responses ?? {})]).toEqual([
        path,
        method,
        expect.arrayContaining([...statuses, '401', '403']),
      ]);
    }
    const filters = doc.paths['/connect/accounts/{tenantId}/payouts'].get.parameters?.map((p) => p.name);
    expect(filters).toEqual(
      expect.arrayContaining(['status', 'created[gte]', 'arrival_date[lt]', 'limit', 'cursor']),
    );
  });

  it('serves the last balance with stale: true when Stripe is down', async () => {
    const { tenant } = await connectVerifiedTenant(t, 'pos');
    const fresh = await call<{ stale: boolean; balances: unknown[] }>(
      'GET',
      `/connect/accounts/${tenant}/balance`,
    );
    expect(fresh.body.stale).toBe(false);
    await emulatorControl(t.emulatorUrl!, '/faults', { path: '/v1/balance', status: 500, count: 100 });
    try {
      const stale = await call<{ stale: boolean; balances: unknown[] }>(
        'GET',
        `/connect/accounts/${tenant}/balance`,
      );
      expect(stale.status).toBe(200);
      expect(stale.body).toMatchObject({ stale: true, balances: fresh.body.balances });
    } finally {
      await emulatorControl(t.emulatorUrl!, '/faults', undefined, 'DELETE');
    }
  });
});

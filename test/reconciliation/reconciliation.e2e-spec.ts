import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import {
  ChargeType,
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
  StripeAccountType,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { PHASES } from '../../apps/connect-service/src/reconciliation/reconciliation.engine';
import { RECONCILIATION_SCHEDULE_QUEUE } from '../../apps/connect-service/src/reconciliation/reconciliation.queues';
import { createPrivateDatabase } from '../utils/private-database';
import { bootTestApp, TestApp, uniqueTenant } from '../utils/test-app';

jest.setTimeout(180_000);

interface Run {
  id: string;
  status: string;
  tenant_id: string | null;
  dry_run: boolean;
  totals: Record<string, number>;
  healed: number;
  new_items: number;
  stripe_calls: number;
  started_at: string | null;
  finished_at: string | null;
}
interface Item {
  id: string;
  run_id: string;
  tenant_id: string;
  category: string;
  status: string;
  payment_route_id: string | null;
  stripe_object_id: string | null;
  local: Record<string, unknown>;
  stripe: Record<string, unknown>;
  note: string | null;
}
interface Route {
  id: string;
  status: string;
  amount: number;
  fee: number;
  payment_intent: { id: string | null };
}

/**
 * Reconciliation end to end: a seeded history across three tenants, one injected drift of every category, heals
 * through the webhook path, idempotent re-runs, a dry run, live traffic, and a job resumed after a stop. The
 * emulator runs beside the app (not inside it) so the app can be stopped and a new one booted on the same Stripe.
 */
describe('reconciliation against the emulator', () => {
  let emulator: RunningEmulator;
  let t: TestApp;
  let gateway: StripeGateway;
  let ds: DataSource;
  const schema = `jobs_recon_${Math.random().toString(36).slice(2, 8)}`;
  // A database of the suite's own: a run (the cron's above all) covers every tenant it finds, and a dry run is
  // checked to change no row at all, so no other suite's rows may share it.
  let db: { url: string; drop(): Promise<void> };
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: db.url,
    STRIPE_SECRET_KEY: 'sk_test_reconciliation',
    STRIPE_API_BASE: emulator.url,
    JOB_QUEUE_SCHEMA: schema,
    PLATFORM_FEE_BASIS_POINTS: '250',
    PLATFORM_FEE_FIXED: 'usd:30',
    RECONCILIATION_STRIPE_RPS: '100',
    RECONCILIATION_PAGE_SIZE: '50',
    ...extra,
  });
  const boot = async (extra: Record<string, string> = {}): Promise<void> => {
    t = await bootTestApp(env(extra), undefined, { listen: true, registerWebhooks: true });
    gateway = t.app.get(StripeGateway);
    ds = t.app.get(DataSource);
  };
  const platform = (): string => t.token({ sub: 'finance-bot', roles: ['platform'] });
  const control = async (path: string, body?: unknown, method = 'POST'): Promise<Record<string, unknown>> => {
    const res = await fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const api = async <T>(method: string, path: string, body?: unknown, token = platform()) => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  const tenants: { id: string; acct: string }[] = [];
  let A: { id: string; acct: string };
  let B: { id: string; acct: string };
  let C: { id: string; acct: string };
  let seedFrom: string;

  async function connectTenant(): Promise<{ id: string; acct: string }> {
    const id = uniqueTenant('recon');
    const account = await gateway.createAccount({ type: 'express', country: 'US' });
    await control(`accounts/${account.id}/verification`, { action: 'complete' });
    await ds.getRepository(ConnectAccountEntity).insert({
      tenant_id: id,
      stripe_account_id: account.id,
      status: ConnectAccountStatus.Active,
      charges_enabled: true,
      onboarding_method: OnboardingMethod.AccountLink,
      account_type: StripeAccountType.Express,
    });
    return { id, acct: account.id };
  }

  async function pay(
    tenant: string,
    amount: number,
    chargeType: string,
    pm = 'pm_card_visa',
  ): Promise<Route> {
    const res = await api<Route>('POST', '/connect/payments', {
      tenant_id: tenant,
      payment_data: { amount, currency: 'usd', payment_method: pm, confirm: true, charge_type: chargeType },
    });
    if (res.status !== 201 && res.status !== 402) throw new Error(`payment: ${res.status}`);
    return res.body;
  }

  /** Runs `n` tasks `width` at a time. */
  async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < n) {
          const i = next++;
          out[i] = await task(i);
        }
      }),
    );
    return out;
  }

  async function until<T>(
    what: string,
    probe: () => Promise<T | null | undefined | false>,
    ms = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async function reconcile(body: Record<string, unknown>): Promise<Run> {
    const start = await api<Run>('POST', '/connect/reconciliation/runs', body);
    expect(start.status).toBe(202);
    return until(`run ${start.body.id}`, async () => {
      const r = await api<Run>('GET', `/connect/reconciliation/runs/${start.body.id}`);
      return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : null;
    });
  }

  /**
   * One run per tenant of this suite, side by side (other suites' tenants share the test database, and their
   * accounts live on their own emulators): items and totals of all three.
   */
  async function reconcileTenants(
    body: Record<string, unknown>,
  ): Promise<{ runs: Run[]; items: Item[]; totals: Record<string, number> }> {
    const runs = await Promise.all(tenants.map((x) => reconcile({ ...body, tenant_id: x.id })));
    const items = (await Promise.all(runs.map((r) => itemsOf(r.id)))).flat();
    const totals: Record<string, number> = {};
    for (const r of runs) for (const [k, n] of Object.entries(r.totals)) totals[k] = (totals[k] ?? 0) + n;
    return { runs, items, totals };
  }

  async function itemsOf(runId: string, query = ''): Promise<Item[]> {
    const all: Item[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Item[]; next_cursor: string | null } } = await api(
        'GET',
        `/connect/reconciliation/runs/${runId}/items?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    return all;
  }

  const windowNow = (): { from: string; to: string } => ({
    from: seedFrom,
    to: new Date(Date.now() + 1000).toISOString(),
  });
  const routeOf = (id: string): Promise<PaymentRouteEntity> =>
    ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id });
  const eventsFor = async (type: string, routeId?: string): Promise<number> => {
    const rows = (await ds.query(
      `SELECT count(*)::int AS n FROM connect_events WHERE type = $1 AND ($2::text IS NULL OR data->>'payment_route_id' = $2)`,
      [type, routeId ?? null],
    )) as { n: number }[];
    return rows[0].n;
  };

  const seeded: Record<string, Route[]> = {};
  const splitShares: { route: string; transfer: string; tenant: string }[] = [];

  beforeAll(async () => {
    db = await createPrivateDatabase();
    emulator = await startStripeEmulator({ port: 0, logger: () => undefined });
    await boot();
    seedFrom = new Date(Date.now() - 1000).toISOString();
    A = await connectTenant();
    B = await connectTenant();
    C = await connectTenant();
    tenants.push(A, B, C);
    // 210 payments: A direct, B destination, C both; a few declines; refunds; one subscription on C.
    const plan: [typeof A, string][] = [
      ...Array.from({ length: 70 }, () => [A, 'direct'] as [typeof A, string]),
      ...Array.from({ length: 70 }, () => [B, 'destination'] as [typeof A, string]),
      ...Array.from({ length: 70 }, (_, i) => [C, i % 2 ? 'direct' : 'destination'] as [typeof A, string]),
    ];
    const routes = await pool(plan.length, 8, (i) => {
      const [tenant, type] = plan[i];
      return pay(tenant.id, 1000 + i * 7, type, i % 37 === 5 ? 'pm_card_chargeDeclined' : 'pm_card_visa');
    });
    for (const [i, r] of routes.entries()) (seeded[plan[i][0].id] ??= []).push(r);
    const declined = routes.filter((_, i) => i % 37 === 5).length;
    await until('seeded payments completed', async () => {
      const [{ n }] = (await ds.query(
        `SELECT count(*)::int AS n FROM payment_routes WHERE tenant_id = ANY($1) AND type = 'payment' AND status = 'completed'`,
        [tenants.map((x) => x.id)],
      )) as { n: number }[];
      return n === plan.length - declined;
    });
    // Refunds: partial and full, on direct and destination charges.
    for (const tenant of tenants) {
      const completed = seeded[tenant.id].filter((r) => r.status !== 'failed').slice(0, 4);
      for (const [i, r] of completed.entries()) {
        const res = await api('POST', `/connect/payments/${r.id}/refunds`, i % 2 ? {} : { amount: 500 });
        expect(res.status).toBe(201);
      }
    }
    const customer = await gateway.createCustomer({ email: 'c@example.com' }, { stripeAccount: C.acct });
    const price = await gateway.createPrice(
      { currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, product_data: { name: 'Pro' } },
      { stripeAccount: C.acct },
    );
    const sub = await api('POST', '/connect/subscriptions', {
      tenant_id: C.id,
      customer: customer.id,
      price: price.id,
      application_fee_percent: 10,
    });
    expect(sub.status).toBe(201);
    // A split payment (separate charge and transfers): C's charge on the platform, shares to A and B. No service
    // path creates splits yet, so the routes are written as the routing module records them (parent `separate`
    // payment with its transfer_group; one `transfer` route per share, parent_id = the payment, stripe_object_id =
    // the tr_), against real Stripe objects made through the gateway.
    const group = `split_${Date.now()}`;
    const parentId = randomUUID();
    const parentPi = await gateway.createPaymentIntent(
      {
        amount: 10_000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        transfer_group: group,
        metadata: { tenant_id: C.id, payment_route_id: parentId },
      },
      {},
    );
    const routeRepo = ds.getRepository(PaymentRouteEntity);
    await routeRepo.insert({
      id: parentId,
      tenant_id: C.id,
      stripe_account_id: C.acct,
      type: PaymentRouteType.Payment,
      status: PaymentRouteStatus.Completed,
      charge_type: ChargeType.Separate,
      amount: 10_000,
      fee: 0,
      currency: 'usd',
      stripe_payment_intent_id: parentPi.id,
      stripe_object_id: parentPi.latest_charge as string,
      stripe_status: 'succeeded',
      transfer_group: group,
      stripe_idempotency_key: `route:${parentId}:create`,
      metadata: {},
      stripe_details: {},
    });
    for (const [share, amount] of [
      [A, 6000],
      [B, 3000],
    ] as const) {
      const childId = randomUUID();
      const transfer = await gateway.createTransfer(
        {
          amount,
          currency: 'usd',
          destination: share.acct,
          source_transaction: parentPi.latest_charge as string,
          transfer_group: group,
          metadata: { tenant_id: share.id, payment_route_id: childId },
        },
        { idempotencyKey: `route:${childId}:transfer` },
      );
      await routeRepo.insert({
        id: childId,
        tenant_id: share.id,
        stripe_account_id: share.acct,
        type: PaymentRouteType.Transfer,
        status: PaymentRouteStatus.Completed,
        charge_type: ChargeType.Separate,
        amount,
        fee: 0,
        currency: 'usd',
        parent_id: parentId,
        stripe_object_id: transfer.id,
        stripe_status: 'paid',
        transfer_group: group,
        stripe_idempotency_key: `route:${childId}:transfer`,
        metadata: {},
        stripe_details: {},
      });
      splitShares.push({ route: childId, transfer: transfer.id, tenant: share.id });
    }
    // Each account's balance paid out and reconciled, so payouts carry every kind of balance transaction.
    for (const tenant of tenants)
      await control(`accounts/${tenant.acct}/payouts/run`, { until: 'reconciled' });
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.close();
    await db?.drop();
  });

  it('finds nothing on the clean history (210 payments, refunds, a split, a subscription, payouts)', async () => {
    const { runs, items, totals } = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(items).toEqual([]);
    expect(totals).toEqual({});
    for (const r of runs) expect(r.stripe_calls).toBeGreaterThan(5);
    const completed = (await ds.query(
      `SELECT count(*)::int AS n FROM connect_events WHERE type = 'connect.reconciliation.completed' AND data->>'run_id' = ANY($1)`,
      [runs.map((r) => r.id)],
    )) as { n: number }[];
    expect(completed[0].n).toBe(3);
    expect(
      await ds.query(`SELECT 1 FROM connect_events WHERE type = 'connect.reconciliation.drift_detected'`),
    ).toHaveLength(0);
  });

  const injected: Record<string, { category: string; status: string; object?: string; route?: string }> = {};
  let driftRuns: Run[];
  let secondRun: Item[];

  it('finds exactly the injected drifts, each in its category, and heals the safe ones', async () => {
    // payout_unlinked: the tenant's own charge (not through the platform) paid out with the rest.
    const own = await gateway.createPaymentIntent(
      { amount: 777, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { stripeAccount: A.acct },
    );
    const payouts = (await control(`accounts/${A.acct}/payouts/run`, { until: 'reconciled' })) as {
      payouts: { id: string }[];
    };
    expect(payouts.payouts).toHaveLength(1);
    const ownTxn = (
      await gateway.listBalanceTransactions({ payout: payouts.payouts[0].id }, { stripeAccount: A.acct })
    ).data.find((bt) => bt.source === own.latest_charge);
    injected.payout_unlinked = { category: 'payout_unlinked', status: 'mismatched', object: ownTxn!.id };

    await control('webhooks/pause');
    const a = seeded[A.id].filter((r) => r.status !== 'failed');
    const b = seeded[B.id].filter((r) => r.status !== 'failed');
    // missing_local: a direct charge made with the platform's fee behind the service's back.
    const stray = await gateway.createPaymentIntent(
      {
        amount: 4200,
        currency: 'usd',
        application_fee_amount: 100,
        payment_method: 'pm_card_visa',
        confirm: true,
        metadata: { tenant_id: A.id },
      },
      { stripeAccount: A.acct },
    );
    injected.missing_local = { category: 'missing_local', status: 'mismatched', object: stray.id };
    // missing_local, healed: a Dashboard refund we never recorded.
    const dashboardRefund = await gateway.createRefund(
      { payment_intent: a[10].payment_intent.id!, amount: 300 },
      { stripeAccount: A.acct },
    );
    injected.refund_recorded = {
      category: 'missing_local',
      status: 'healed',
      object: dashboardRefund.id,
      route: a[10].id,
    };
    // missing_stripe: a completed route Stripe never had.
    const ghost = await ds.getRepository(PaymentRouteEntity).save(
      ds.getRepository(PaymentRouteEntity).create({
        tenant_id: B.id,
        stripe_account_id: B.acct,
        type: 'payment' as never,
        status: 'completed' as never,
        charge_type: 'destination' as never,
        amount: 1500,
        fee: 68,
        currency: 'usd',
        stripe_payment_intent_id: 'pi_never_at_stripe_0001',
        stripe_idempotency_key: `route:ghost:${Date.now()}`,
        metadata: {},
        stripe_details: {},
      }),
    );
    injected.missing_stripe = { category: 'missing_stripe', status: 'mismatched', route: ghost.id };
    // amount and currency: edited at Stripe.
    await control(`objects/${a[11].payment_intent.id}`, { set: { amount: 1 } });
    injected.amount = { category: 'amount_mismatch', status: 'mismatched', route: a[11].id };
    await control(`objects/${b[11].payment_intent.id}`, { set: { currency: 'eur' } });
    injected.currency = { category: 'currency_mismatch', status: 'mismatched', route: b[11].id };
    // status, not safe: a completed payment whose PaymentIntent Stripe shows canceled.
    await control(`objects/${a[12].payment_intent.id}`, { set: { status: 'canceled' } });
    injected.status_bad = { category: 'status_mismatch', status: 'mismatched', route: a[12].id };
    // status, safe: a payment whose payment_intent.succeeded never arrived.
    const pending = await pay(A.id, 3300, 'direct');
    expect(pending.status).toBe('pending');
    injected.status_healed = { category: 'status_mismatch', status: 'healed', route: pending.id };
    // fee: the application fee Stripe holds differs from ours.
    const feeCharge = await gateway.retrieveCharge(
      (await gateway.retrievePaymentIntent(a[13].payment_intent.id!, { stripeAccount: A.acct }))
        .latest_charge as string,
      { stripeAccount: A.acct },
    );
    await control(`objects/${feeCharge.application_fee as string}`, { set: { amount: 5 } });
    injected.fee = { category: 'fee_mismatch', status: 'mismatched', route: a[13].id };
    // refunded total: Stripe's charge says more was refunded than we know of.
    const refundCharge = (await gateway.retrievePaymentIntent(b[12].payment_intent.id!))
      .latest_charge as string;
    await control(`objects/${refundCharge}`, { set: { amount_refunded: 400 } });
    injected.refund = { category: 'refund_mismatch', status: 'mismatched', route: b[12].id };
    // transfer: the destination charge's transfer carries another amount.
    const transferOf = (
      await gateway.retrieveCharge(
        (await gateway.retrievePaymentIntent(b[13].payment_intent.id!)).latest_charge as string,
      )
    ).transfer as string;
    await control(`objects/${transferOf}`, { set: { amount: 10 } });
    injected.transfer = { category: 'transfer_mismatch', status: 'mismatched', route: b[13].id };
    // transfer, split: A's share of the split payment carries another amount at Stripe.
    const shareOfA = splitShares.find((x) => x.tenant === A.id)!;
    await control(`objects/${shareOfA.transfer}`, { set: { amount: 5999 } });
    injected.split = {
      category: 'transfer_mismatch',
      status: 'mismatched',
      route: shareOfA.route,
      object: shareOfA.transfer,
    };
    // duplicate: a second PaymentIntent carrying an existing route's id.
    const twin = await gateway.createPaymentIntent(
      {
        amount: b[14].amount,
        currency: 'usd',
        transfer_data: { destination: B.acct },
        metadata: { tenant_id: B.id, payment_route_id: b[14].id },
      },
      {},
    );
    injected.duplicate = { category: 'duplicate', status: 'mismatched', route: b[14].id, object: twin.id };

    const completedBefore = await eventsFor('connect.payment.completed', pending.id);
    const drifted = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    driftRuns = drifted.runs;
    const items = drifted.items;
    const found = items.map((i) => ({
      category: i.category,
      status: i.status,
      ...(i.payment_route_id ? { route: i.payment_route_id } : {}),
      ...(i.stripe_object_id ? { object: i.stripe_object_id } : {}),
    }));
    for (const want of Object.values(injected)) expect(found).toContainEqual(expect.objectContaining(want));
    expect(items).toHaveLength(Object.keys(injected).length);
    expect(drifted.totals).toEqual({
      missing_local: 2,
      missing_stripe: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      status_mismatch: 2,
      fee_mismatch: 1,
      refund_mismatch: 1,
      transfer_mismatch: 2,
      duplicate: 1,
      payout_unlinked: 1,
    });
    expect(driftRuns.reduce((n, r) => n + r.healed, 0)).toBe(2);
    expect(driftRuns.reduce((n, r) => n + r.new_items, 0)).toBe(items.length);
    // Both sides are on the item.
    const amountItem = items.find((i) => i.category === 'amount_mismatch')!;
    expect(amountItem.local).toMatchObject({ amount: a[11].amount });
    expect(amountItem.stripe).toMatchObject({ amount: 1 });

    // The heals went through the webhook handlers: the route moved forward and the same ConnectEvents went out.
    expect((await routeOf(pending.id)).status).toBe('completed');
    expect(await eventsFor('connect.payment.completed', pending.id)).toBe(completedBefore + 1);
    const recorded = await ds
      .getRepository(PaymentRouteEntity)
      .findOneByOrFail({ stripe_object_id: dashboardRefund.id });
    expect(recorded).toMatchObject({ type: 'refund', status: 'completed', amount: 300, parent_id: a[10].id });
    expect(await eventsFor('connect.refund.completed', recorded.id)).toBe(1);
    const drift = (await ds.query(
      `SELECT tenant_id, data FROM connect_events WHERE type = 'connect.reconciliation.drift_detected' AND data->>'run_id' = ANY($1)`,
      [driftRuns.map((r) => r.id)],
    )) as { tenant_id: string; data: { counts: Record<string, number> } }[];
    expect(Object.fromEntries(drift.map((d) => [d.tenant_id, d.data.counts]))).toEqual({
      [A.id]: {
        missing_local: 1,
        amount_mismatch: 1,
        status_mismatch: 1,
        fee_mismatch: 1,
        transfer_mismatch: 1,
        payout_unlinked: 1,
      },
      [B.id]: {
        missing_stripe: 1,
        currency_mismatch: 1,
        refund_mismatch: 1,
        transfer_mismatch: 1,
        duplicate: 1,
      },
    });
    // The gauge shows the open items.
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    // Other suites share the test database (the security suite seeds an item): the gauge counts every live one.
    const [{ n: open }] = (await ds.query(
      `SELECT count(*)::int AS n FROM reconciliation_items
        WHERE scope = 'live' AND category = 'duplicate' AND status = 'mismatched'`,
    )) as { n: number }[];
    expect(open).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain(
      `connect_reconciliation_drift_items{category="duplicate",status="mismatched"} ${open}`,
    );
  });

  it('a second run of the same window finds nothing new', async () => {
    const before = (await ds.query(`SELECT count(*)::int AS n FROM reconciliation_items`)) as { n: number }[];
    const again = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    secondRun = again.items;
    expect(again.runs.map((r) => [r.new_items, r.healed])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(again.totals).toEqual({
      missing_local: 1,
      missing_stripe: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      status_mismatch: 1,
      fee_mismatch: 1,
      refund_mismatch: 1,
      transfer_mismatch: 2,
      duplicate: 1,
      payout_unlinked: 1,
    });
    const after = (await ds.query(`SELECT count(*)::int AS n FROM reconciliation_items`)) as { n: number }[];
    expect(after[0].n).toBe(before[0].n);
  });

  it('resolves an item by hand with a note, audit-logged; a tenant caller cannot see another tenant’s run', async () => {
    const [dup] = (await Promise.all(driftRuns.map((r) => itemsOf(r.id, '&category=duplicate')))).flat();
    const res = await api<Item>('POST', `/connect/reconciliation/items/${dup.id}/resolve`, {
      note: 'Canceled the twin PaymentIntent by hand',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', note: 'Canceled the twin PaymentIntent by hand' });
    // The audit row is written after the response, off the request path.
    const audit = await until('the audit row', async () => {
      const rows = (await ds.query(
        `SELECT action, outcome, target_id FROM audit_log WHERE action = 'reconciliation.resolve'`,
      )) as { action: string; outcome: string; target_id: string }[];
      return rows.length ? rows : null;
    });
    expect(audit).toEqual([{ action: 'reconciliation.resolve', outcome: 'success', target_id: dup.id }]);
    const tenantToken = t.token({ sub: 'c-admin', tenant_id: C.id, roles: ['admin'] });
    const runOfA = driftRuns.find((r) => r.tenant_id === A.id)!;
    expect(
      (await api('GET', `/connect/reconciliation/runs/${runOfA.id}`, undefined, tenantToken)).status,
    ).toBe(404);
    const [itemOfA] = await itemsOf(runOfA.id, '&status=mismatched');
    const foreign = await api<{ code: string }>(
      'POST',
      `/connect/reconciliation/items/${itemOfA.id}/resolve`,
      { note: 'not mine' },
      tenantToken,
    );
    expect(foreign.status).toBe(404);
    const own = driftRuns.find((r) => r.tenant_id === C.id)!;
    expect((await api('GET', `/connect/reconciliation/runs/${own.id}`, undefined, tenantToken)).status).toBe(
      200,
    );
    expect(
      (await api('POST', '/connect/reconciliation/runs', { ...windowNow(), tenant_id: A.id }, tenantToken))
        .status,
    ).toBe(403);
    const bad = await api<{ code: string }>('POST', '/connect/reconciliation/runs', {
      from: '2026-11-02T00:00:00Z',
      to: '2026-11-01T00:00:00Z',
    });
    expect(bad.status).toBe(400);
  });

  it('a dry run changes no row and sends no event', async () => {
    const pending = await pay(A.id, 2100, 'direct'); // webhooks are still paused: a healable drift
    const snapshot = async (): Promise<unknown> => ({
      routes: await ds.query(`SELECT id, status, version, updated_at FROM payment_routes ORDER BY id`),
      events: await ds.query(`SELECT count(*)::int AS n FROM connect_events`),
      accounts: await ds.query(`SELECT tenant_id, updated_at FROM connect_accounts ORDER BY tenant_id`),
      live: await ds.query(
        `SELECT id, status, last_run_id FROM reconciliation_items WHERE scope = 'live' ORDER BY id`,
      ),
    });
    const before = await snapshot();
    const run = await reconcile({ ...windowNow(), grace_seconds: 0, tenant_id: A.id, dry_run: true });
    expect(run).toMatchObject({ status: 'completed', dry_run: true, healed: 0 });
    const items = await itemsOf(run.id, '&category=status_mismatch');
    expect(items.map((i) => [i.payment_route_id, i.status])).toContainEqual([pending.id, 'mismatched']);
    expect(await snapshot()).toEqual(before);
    await control('webhooks/resume');
    await until(
      'the paused webhooks applied',
      async () => (await routeOf(pending.id)).status === 'completed',
    );
  });

  it('reports in-flight payments during live traffic as expected, never mismatched', async () => {
    const from = new Date(Date.now() - 500).toISOString();
    let stop = false;
    const live: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        const r = await pay(C.id, 1200, live.length % 2 ? 'direct' : 'destination');
        live.push(r.id);
      }
    })();
    const runs: Run[] = [];
    await until('some traffic', async () => live.length >= 5);
    runs.push(await reconcile({ tenant_id: C.id, from, to: new Date(Date.now() + 60_000).toISOString() }));
    stop = true;
    await traffic;
    const items = await itemsOf(runs[0].id);
    expect(items.filter((i) => i.status === 'mismatched')).toEqual([]);
    for (const i of items)
      expect(i.payment_route_id === null || live.includes(i.payment_route_id)).toBe(true);
  });

  it('a job stopped half-way resumes from its stored cursor and ends with the same items as an uninterrupted run', async () => {
    await t.close();
    // Slow enough to stop it mid-way: 8 calls a second, 10 objects a page.
    await boot({ RECONCILIATION_STRIPE_RPS: '8', RECONCILIATION_PAGE_SIZE: '10' });
    const window = { ...windowNow(), grace_seconds: 0, tenant_id: A.id, dry_run: true };
    const start = await api<Run>('POST', '/connect/reconciliation/runs', window);
    const stored = await until('the job past its PaymentIntents', async () => {
      const [job] = (await ds.query(
        `SELECT phase, cursor, pages FROM reconciliation_jobs WHERE run_id = $1`,
        [start.body.id],
      )) as { phase: string; cursor: string | null; pages: number }[];
      return job && job.phase.startsWith('ch:') ? job : null;
    });
    await t.close();
    const stoppedAt = Date.now();
    await boot({ RECONCILIATION_PAGE_SIZE: '10' });
    const [job] = (await ds.query(`SELECT phase, status, pages FROM reconciliation_jobs WHERE run_id = $1`, [
      start.body.id,
    ])) as { phase: string; status: string; pages: number }[];
    // Stopped mid-way: its progress kept, not started over.
    expect(PHASES.indexOf(job.phase as never)).toBeGreaterThanOrEqual(PHASES.indexOf(stored.phase as never));
    expect(job.pages).toBeGreaterThanOrEqual(stored.pages);
    expect(stored.pages).toBeGreaterThan(2);
    const resumed = await until('the resumed run', async () => {
      const r = await api<Run>('GET', `/connect/reconciliation/runs/${start.body.id}`);
      return r.body.status === 'completed' ? r.body : null;
    });
    // After the restart no PaymentIntent list was walked again: the job went on from its stored phase and cursor.
    const requests = (await control('requests?path=/v1/payment_intents', undefined, 'GET')) as {
      data: { path: string; method: string; at: number }[];
    };
    expect(
      requests.data.filter((r) => r.path === '/v1/payment_intents' && r.method === 'GET' && r.at > stoppedAt),
    ).toEqual([]);
    const uninterrupted = await reconcile(window);
    const key = (i: Item): string => `${i.category}|${i.status}|${i.payment_route_id}|${i.stripe_object_id}`;
    const left = (await itemsOf(resumed.id)).map(key).sort();
    expect(left.length).toBeGreaterThan(3);
    expect(left).toEqual((await itemsOf(uninterrupted.id)).map(key).sort());
    expect(resumed.totals).toEqual(uninterrupted.totals);
  });

  it('the cron starts a run over every tenant for the configured window, one job per tenant', async () => {
    const [schedule] = (await ds.query(`SELECT name, cron FROM ${schema}.schedule WHERE name = $1`, [
      RECONCILIATION_SCHEDULE_QUEUE,
    ])) as { name: string; cron: string }[];
    expect(schedule).toEqual({ name: RECONCILIATION_SCHEDULE_QUEUE, cron: '41 2 * * *' });
    // What pg-boss's clock enqueues on the tick, sent now.
    await t.app.get(JobQueue).send(RECONCILIATION_SCHEDULE_QUEUE, {});
    const run = await until('the scheduled run', async () => {
      const rows = (await ds.query(
        `SELECT id, tenant_id, window_from, window_to FROM reconciliation_runs WHERE trigger = 'scheduled'`,
      )) as { id: string; tenant_id: string | null; window_from: Date; window_to: Date }[];
      return rows[0];
    });
    expect(run.tenant_id).toBeNull();
    expect(run.window_to.getTime() - run.window_from.getTime()).toBe(90_000_000);
    const ours = await until('our tenants reconciled', async () => {
      const jobs = (await ds.query(
        `SELECT tenant_id, status FROM reconciliation_jobs WHERE run_id = $1 AND tenant_id = ANY($2)`,
        [run.id, tenants.map((x) => x.id)],
      )) as { tenant_id: string; status: string }[];
      return jobs.length === 3 && jobs.every((j) => j.status === 'completed') ? jobs : null;
    });
    expect(ours).toHaveLength(3);
    // Sharing the platform pages between the jobs of one run changes nothing in what each tenant's job finds.
    const identity = (i: {
      category: string;
      payment_route_id: string | null;
      stripe_object_id: string | null;
    }) => `${i.category}|${i.payment_route_id}|${i.stripe_object_id}`;
    const seen = (await ds.query(
      `SELECT category, payment_route_id, stripe_object_id FROM reconciliation_items
        WHERE last_run_id = $1 AND tenant_id = ANY($2)`,
      [run.id, tenants.map((x) => x.id)],
    )) as Item[];
    expect(seen.map(identity).sort()).toEqual(secondRun.map(identity).sort());
  });
});

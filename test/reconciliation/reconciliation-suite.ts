import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { ChargeType, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { connectTenant as connectAccount, createPayment } from '../support/factory';
import { eventually } from '../utils/eventually';
import { api as httpApi } from '../support/http';
import { createPrivateDatabase } from '../utils/private-database';
import { bootTestApp, TestApp } from '../support/app';

export interface Run {
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
export interface Item {
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
export interface Route {
  id: string;
  status: string;
  amount: number;
  fee: number;
  payment_intent: { id: string | null };
}

/**
 * The reconciliation suite's world: a private database, an emulator beside the app (so the app can be stopped and
 * a new one booted on the same Stripe), three tenants and a seeded history (210 payments, refunds, a split, a
 * subscription, payouts). Registers its beforeAll/afterAll; state that a reboot replaces is read through getters.
 */
export function reconciliationSuite() {
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
  const control = (path: string, body?: unknown, method = 'POST'): Promise<Record<string, unknown>> =>
    emulatorControl(emulator.url, path, body, method);
  const api = async <T>(method: string, path: string, body?: unknown, token = platform()) => {
    const res = await httpApi(t)<T>(method, path, { token, body });
    return { status: res.status, body: res.body };
  };

  const tenants: { id: string; acct: string }[] = [];
  let A: { id: string; acct: string };
  let B: { id: string; acct: string };
  let C: { id: string; acct: string };
  let seedFrom: string;

  async function connectTenant(): Promise<{ id: string; acct: string }> {
    const { tenant, acct } = await connectAccount(t, { prefix: 'recon', emulatorUrl: emulator.url });
    return { id: tenant, acct };
  }

  const pay = (tenant: string, amount: number, chargeType: string, pm = 'pm_card_visa'): Promise<Route> =>
    createPayment(t, {
      tenant,
      amount,
      charge_type: chargeType as 'direct' | 'destination',
      payment_method: pm,
      token: platform(),
      accept: [402],
    });

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

  const until = <T>(
    what: string,
    probe: () => Promise<T | null | undefined | false>,
    ms = 60_000,
  ): Promise<T> => eventually(what, probe, { timeoutMs: ms, intervalMs: 150 }) as Promise<T>;

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

  return {
    get t(): TestApp {
      return t;
    },
    get ds(): DataSource {
      return ds;
    },
    get gateway(): StripeGateway {
      return gateway;
    },
    get A(): { id: string; acct: string } {
      return A;
    },
    get B(): { id: string; acct: string } {
      return B;
    },
    get C(): { id: string; acct: string } {
      return C;
    },
    schema,
    tenants,
    seeded,
    splitShares,
    boot,
    control,
    requests: (filter: { path?: string; method?: string }) => emulatorRequests(emulator.url, filter),
    api,
    pay,
    until,
    reconcile,
    reconcileTenants,
    itemsOf,
    windowNow,
    routeOf,
    eventsFor,
  };
}

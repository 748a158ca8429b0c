import { DataSource } from 'typeorm';
import { PaymentRouteEntity } from '@app/database';
import { COUNTERS, Counter } from '../../apps/connect-service/src/analytics/analytics-metrics';
import { AnalyticsService } from '../../apps/connect-service/src/analytics/analytics.service';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { connectTenant } from '../support/factory';

jest.setTimeout(300_000);

/** mulberry32: a seeded PRNG, so a failing run can be repeated with ANALYTICS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Counts = Record<Counter, number>;
const zero = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

/**
 * The metrics recounted from the routes in plain TypeScript, straight from their definitions (independent of the
 * SQL the trigger and the rebuild share): the expected content of the rollups, key by key.
 */
function recount(routes: PaymentRouteEntity[], unit: 'hour' | 'day'): Map<string, Counts> {
  const ms = unit === 'hour' ? 3_600_000 : 86_400_000;
  const out = new Map<string, Counts>();
  const add = (r: PaymentRouteEntity, at: number, delta: Partial<Counts>): void => {
    const bucket = new Date(Math.floor(at / ms) * ms).toISOString();
    const key = [
      r.tenant_id,
      bucket,
      r.stripe_account_id,
      r.currency.trim(),
      r.charge_type ?? '',
      r.type,
      r.routing_rule ?? '',
    ].join('|');
    const c = out.get(key) ?? zero();
    for (const [k, v] of Object.entries(delta) as [Counter, number][]) c[k] += v;
    out.set(key, c);
  };
  for (const r of routes) {
    const created = r.created_at.getTime();
    const d = r.stripe_details as {
      declined?: boolean;
      dispute?: { amount: number; opened_at: number };
      application_fee?: {
        amount_refunded: number;
        created: number;
        refunds: { amount: number; created: number }[];
      };
    };
    if (r.type === 'payment') {
      const ok = r.status === 'completed';
      const failed = r.status === 'failed';
      add(r, created, {
        payments_attempted: 1,
        payments_succeeded: ok ? 1 : 0,
        payments_failed: failed ? 1 : 0,
        payments_declined: failed && d.declined ? 1 : 0,
        gross_volume: ok ? r.amount : 0,
        fees_collected: ok ? r.fee : 0,
      });
      if (d.dispute)
        add(r, d.dispute.opened_at * 1000, { disputes_count: 1, disputes_amount: d.dispute.amount });
      let listed = 0;
      for (const f of d.application_fee?.refunds ?? []) {
        listed += f.amount;
        add(r, f.created * 1000, { fees_refunded: f.amount });
      }
      if (d.application_fee && d.application_fee.amount_refunded > listed)
        add(r, d.application_fee.created * 1000, {
          fees_refunded: d.application_fee.amount_refunded - listed,
        });
    } else if (r.type === 'refund' && r.status === 'completed') {
      add(r, created, { refunds_count: 1, refunds_amount: r.amount });
    } else if (r.type === 'transfer' && r.status === 'completed') {
      add(r, created, { transfer_volume: r.amount });
    }
  }
  for (const [k, c] of out) if (COUNTERS.every((m) => c[m] === 0)) out.delete(k);
  return out;
}

async function rollups(ds: DataSource, table: string, tenants: string[]): Promise<Map<string, Counts>> {
  const rows: Record<string, unknown>[] = await ds.query(
    `SELECT tenant_id, bucket_start, stripe_account_id, currency, charge_type, type, routing_rule,
            ${COUNTERS.map((c) => `sum(${c})::text AS ${c}`).join(', ')}
       FROM ${table} WHERE tenant_id = ANY($1)
      GROUP BY tenant_id, bucket_start, stripe_account_id, currency, charge_type, type, routing_rule`,
    [tenants],
  );
  const out = new Map<string, Counts>();
  for (const r of rows) {
    const c = Object.fromEntries(COUNTERS.map((m) => [m, Number(r[m])])) as Counts;
    if (COUNTERS.every((m) => c[m] === 0)) continue;
    const key = [
      r.tenant_id,
      (r.bucket_start as Date).toISOString(),
      r.stripe_account_id,
      String(r.currency).trim(),
      r.charge_type,
      r.type,
      r.routing_rule,
    ].join('|');
    out.set(key, c);
  }
  return out;
}

/** What the workload reads from the service's answers. */
interface WorkloadBody {
  id: string;
  fee: number;
  totals: { group: { currency: string }; metrics: Record<string, number> }[];
}

/** The tenant hourly rollups plus the deltas the fold has not moved yet, as the query API adds them. */
async function withDeltas(ds: DataSource, tenants: string[]): Promise<Map<string, Counts>> {
  const out = await rollups(ds, 'analytics_rollups_hourly', tenants);
  const deltas = await rollups(ds, 'analytics_rollup_deltas', tenants);
  for (const [k, d] of deltas) {
    const c = out.get(k) ?? zero();
    for (const m of COUNTERS) c[m] += d[m];
    if (COUNTERS.every((m) => c[m] === 0)) out.delete(k);
    else out.set(k, c);
  }
  return out;
}

const sortedEntries = (m: Map<string, Counts>): [string, Counts][] =>
  [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

describe('analytics: a randomized concurrent workload on two instances leaves rollups equal to a recount', () => {
  const seed = Number(process.env.ANALYTICS_SEED ?? Date.now() % 1_000_000);
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  let a: TestApp;
  let b: TestApp;
  let ds: DataSource;
  const tenants: { tenant: string; acct: string }[] = [];

  beforeAll(async () => {
    const schema = `jobs_ana_${Math.random().toString(36).slice(2, 8)}`;
    const env = {
      PLATFORM_FEE_BASIS_POINTS: '290',
      PLATFORM_FEE_FIXED: 'usd:30,eur:25,jpy:30',
      JOB_QUEUE_SCHEMA: schema,
    };
    a = await bootTestApp(env, undefined, { listen: true, registerWebhooks: true });
    // The second instance uses the first one's emulator as its Stripe and registers its own endpoints there:
    // every event is delivered to both instances (duplicates by construction), which share one job queue.
    b = await bootTestApp(
      { ...env, STRIPE_SECRET_KEY: 'sk_test_emulator', STRIPE_API_BASE: a.emulatorUrl },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    ds = a.app.get(DataSource);
    for (let i = 0; i < 3; i++) {
      tenants.push(await connectTenant(a, { prefix: `wl${i}` }));
    }
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const instance = (): TestApp => (random() < 0.5 ? a : b);
  async function post(
    t: TestApp,
    path: string,
    body: unknown,
  ): Promise<{ status: number; body: WorkloadBody }> {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.token({ sub: 'platform-backend', roles: ['platform'] })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as WorkloadBody };
  }
  /** Runs the tasks with at most `n` in flight. */
  async function pool<T>(tasks: (() => Promise<T>)[], n: number): Promise<T[]> {
    const results: T[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < tasks.length) {
          const i = next++;
          results[i] = await tasks[i]();
        }
      }),
    );
    return results;
  }
  const names = (): string[] => tenants.map((t) => t.tenant);
  const routesOf = (): Promise<PaymentRouteEntity[]> =>
    ds
      .getRepository(PaymentRouteEntity)
      .createQueryBuilder('p')
      .where('p.tenant_id = ANY(:t)', { t: names() })
      .getMany();
  /** Until every delivered event of our tenants is processed and nothing new arrived for a while. */
  async function quiesce(): Promise<void> {
    let last = -1;
    let stable = 0;
    const deadline = Date.now() + 120_000;
    while (stable < 3) {
      if (Date.now() > deadline) throw new Error('the webhook inbox never settled');
      await new Promise((r) => setTimeout(r, 700));
      const [{ total, open }] = (await ds.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ('received', 'failed'))::int AS open
           FROM stripe_webhook_events WHERE tenant_id = ANY($1)`,
        [names()],
      )) as { total: number; open: number }[];
      stable = open === 0 && total === last ? stable + 1 : 0;
      last = total;
    }
  }
  /** Every few events delivered again, several times at once, to both instances. */
  async function duplicateSomeEvents(): Promise<number> {
    const { data } = await emulatorControl<{ data: { event_id: string }[] }>(
      a.emulatorUrl!,
      'webhooks/deliveries',
      undefined,
      'GET',
    );
    const ids = [...new Set(data.map((d) => d.event_id))].filter(() => random() < 0.3);
    await pool(
      ids.map(
        (id) => () =>
          emulatorControl(a.emulatorUrl!, `/events/${id}/redeliver`, { times: 2, concurrent: true }),
      ),
      4,
    );
    return ids.length;
  }

  it('payments in three currencies, declines, partial refunds, disputes, duplicate and reordered webhooks', async () => {
    const currencies = ['usd', 'eur', 'jpy'] as const;
    const log: {
      seed: number;
      payments: number;
      declined: number;
      refunds: number;
      disputes: number;
      duplicated: number;
    } = {
      seed,
      payments: 0,
      declined: 0,
      refunds: 0,
      disputes: 0,
      duplicated: 0,
    };
    const expected = new Map<
      string,
      {
        attempted: number;
        succeeded: number;
        declined: number;
        gross: number;
        fees: number;
        refunds: number;
        refunded: number;
        disputes: number;
        disputed: number;
      }
    >();
    const exp = (currency: string) => {
      const e = expected.get(currency) ?? {
        attempted: 0,
        succeeded: 0,
        declined: 0,
        gross: 0,
        fees: 0,
        refunds: 0,
        refunded: 0,
        disputes: 0,
        disputed: 0,
      };
      expected.set(currency, e);
      return e;
    };
    const paid: { id: string; amount: number; currency: string; left: number }[] = [];

    // Phase 1 and 2: payments, half of them while webhooks are held back and then delivered newest first.
    for (const phase of ['live', 'reversed'] as const) {
      if (phase === 'reversed') await emulatorControl(a.emulatorUrl!, '/webhooks/pause', {});
      const tasks = Array.from({ length: 24 }, () => {
        const { tenant } = pick(tenants);
        const currency = pick(currencies);
        const amount =
          currency === 'jpy' ? 100 + Math.floor(random() * 20_000) : 500 + Math.floor(random() * 50_000);
        const declined = random() < 0.2;
        const chargeType = random() < 0.5 ? 'direct' : 'destination';
        const via = instance();
        return async () => {
          const res = await post(via, '/connect/payments', {
            tenant_id: tenant,
            payment_data: {
              amount,
              currency,
              charge_type: chargeType,
              payment_method: declined ? 'pm_card_chargeDeclined' : 'pm_card_visa',
              confirm: true,
            },
          });
          const e = exp(currency);
          e.attempted++;
          log.payments++;
          if (declined) {
            expect(res.status).toBe(402);
            e.declined++;
            log.declined++;
          } else {
            expect(res.status).toBe(201);
            e.succeeded++;
            e.gross += amount;
            e.fees += res.body.fee;
            paid.push({ id: res.body.id, amount, currency, left: amount });
          }
        };
      });
      await pool(tasks, 6);
      if (phase === 'reversed')
        await emulatorControl(a.emulatorUrl!, '/webhooks/resume', { order: 'reverse' });
    }

    // Phase 3: partial refunds (some while webhooks are held and reordered) and disputes, through both instances.
    await emulatorControl(a.emulatorUrl!, '/webhooks/pause', {});
    const refundTasks = paid
      .filter(() => random() < 0.5)
      .flatMap((p) =>
        Array.from({ length: 1 + Math.floor(random() * 2) }, () => async () => {
          const amount = Math.max(1, Math.floor(p.left * (0.2 + random() * 0.3)));
          if (p.left - amount < 1) return;
          p.left -= amount;
          const res = await post(instance(), `/connect/payments/${p.id}/refunds`, { amount });
          expect(res.status).toBe(201);
          const e = exp(p.currency);
          e.refunds++;
          e.refunded += amount;
          log.refunds++;
        }),
      );
    await pool(refundTasks, 4);
    await emulatorControl(a.emulatorUrl!, '/webhooks/resume', { order: 'reverse' });
    await quiesce();
    const charges = await ds
      .getRepository(PaymentRouteEntity)
      .findBy(paid.filter(() => random() < 0.25).map((p) => ({ id: p.id })));
    for (const route of charges) {
      expect(route.stripe_object_id).toMatch(/^ch_|^py_/);
      const dispute = await emulatorControl<{ amount: number }>(
        a.emulatorUrl!,
        `/charges/${route.stripe_object_id}/dispute`,
        {},
      );
      const e = exp(route.currency.trim());
      e.disputes++;
      e.disputed += dispute.amount;
      log.disputes++;
    }
    await quiesce();
    log.duplicated = await duplicateSomeEvents();
    await quiesce();

    const routes = await routesOf();
    expect(routes.filter((r) => r.type === 'payment' && r.status === 'pending')).toEqual([]);
    expect(routes.filter((r) => r.type === 'refund' && r.status !== 'completed')).toEqual([]);

    // Before the fold: rollups plus the deltas not folded yet equal the recount, hour by hour, metric by metric.
    expect(sortedEntries(await withDeltas(ds, names()))).toEqual(sortedEntries(recount(routes, 'hour')));
    // After it: the rollups alone, hourly and daily; the platform-wide rollups equal the tenant ones summed.
    await a.app.get(AnalyticsService).fold();
    expect(
      (
        await ds.query(`SELECT count(*)::int AS n FROM analytics_rollup_deltas WHERE tenant_id = ANY($1)`, [
          names(),
        ])
      )[0].n,
    ).toBe(0);
    for (const [table, unit] of [
      ['analytics_rollups_hourly', 'hour'],
      ['analytics_rollups_daily', 'day'],
    ] as const) {
      expect(sortedEntries(await rollups(ds, table, names()))).toEqual(sortedEntries(recount(routes, unit)));
    }
    for (const unit of ['hourly', 'daily']) {
      const sums = COUNTERS.map((c) => `sum(${c})::text AS ${c}`).join(', ');
      const keys = 'bucket_start, currency, charge_type, type, routing_rule';
      const nonZero = COUNTERS.map((c) => `${c} <> 0`).join(' OR ');
      const [platform, tenants] = await Promise.all([
        ds.query(
          `SELECT ${keys}, ${sums} FROM analytics_platform_rollups_${unit} WHERE ${nonZero} GROUP BY ${keys} ORDER BY ${keys}`,
        ),
        ds.query(
          `SELECT ${keys}, ${sums} FROM analytics_rollups_${unit} GROUP BY ${keys} HAVING ${COUNTERS.map((c) => `sum(${c}) <> 0`).join(' OR ')} ORDER BY ${keys}`,
        ),
      ]);
      expect(platform).toEqual(tenants);
    }

    // And the query API answers what the workload did, by currency (nothing lost, nothing counted twice).
    const from = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000);
    const res = await post(a, '/connect/analytics/query', {
      time_range: { from: from.toISOString(), to: new Date(from.getTime() + 3 * 86_400_000).toISOString() },
      granularity: 'total',
      group_by: ['currency'],
      filters: { tenant_id: names() },
      metrics: COUNTERS.filter((c) => c !== 'transfer_volume'),
    });
    expect(res.status).toBe(200);
    const got = Object.fromEntries(
      (res.body.totals as { group: { currency: string }; metrics: Record<string, number> }[]).map((t) => [
        t.group.currency,
        t.metrics,
      ]),
    );
    for (const [currency, e] of expected) {
      expect({ currency, ...got[currency], fees_refunded: undefined }).toEqual({
        currency,
        payments_attempted: e.attempted,
        payments_succeeded: e.succeeded,
        payments_failed: e.declined,
        payments_declined: e.declined,
        gross_volume: e.gross,
        fees_collected: e.fees,
        fees_refunded: undefined,
        refunds_count: e.refunds,
        refunds_amount: e.refunded,
        disputes_count: e.disputes,
        disputes_amount: e.disputed,
      });
    }
    // Direct charges refund the application fee by default: some fee came back.
    if (log.refunds > 0)
      expect(Object.values(got).reduce((s, m) => s + m.fees_refunded, 0)).toBeGreaterThan(0);
    process.stdout.write(`analytics workload: ${JSON.stringify(log)}\n`);
  });
});

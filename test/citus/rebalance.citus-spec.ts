import { DataSource } from 'typeorm';
import { eventually } from '../utils/eventually';
import { TestApp } from '../support/app';
import { CONNECT_SECRET, deliver, eventBody, PLATFORM_SECRET } from '../webhooks/webhook-support';
import { CitusCluster, citusSuite } from './support/citus-cluster';
import { bootOnCluster, createTestDatabase, TenantFlows } from './support/citus-app';

const { install, describeCitus } = citusSuite();

const TENANTS = 8;

describeCitus('growing the cluster while payments and webhooks flow', () => {
  let cluster: CitusCluster;
  let t: TestApp;
  let flows: TenantFlows;
  let ds: DataSource;
  let tenants: Array<{ tenant: string; acct: string }>;

  beforeAll(async () => {
    if ('missing' in install) return;
    cluster = await CitusCluster.start(install, 2);
    const url = await createTestDatabase(cluster, 'connect_citus_rebalance');
    t = await bootOnCluster(url, {
      STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
    });
    flows = new TenantFlows(t);
    ds = t.app.get(DataSource);
    tenants = [];
    for (let i = 0; i < TENANTS; i++) tenants.push(await flows.connect('grow'));
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    cluster?.stop();
  });

  const count = async (table: string): Promise<number> => {
    const [r] = (await ds.query(`SELECT count(*)::int AS n FROM ${table}`)) as Array<{ n: number }>;
    return r.n;
  };

  it('adds a worker and rebalances with no failed request and no row lost or doubled', async () => {
    const before = {
      payments: await count('payment_routes'),
      webhooks: await count('stripe_webhook_events'),
    };
    let stop = false;
    const sent = { payments: 0, webhooks: 0 };
    const failures: string[] = [];
    const webhookIds = new Set<string>();

    const paymentsLoop = async (lane: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const { tenant } = tenants[(lane + i) % TENANTS];
        const res = await flows.pay(tenant, 1_000 + i, 'direct', `drill-${lane}-${i}`);
        sent.payments++;
        if (res.status !== 201) failures.push(`payment ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const webhooksLoop = async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const { acct } = tenants[i % TENANTS];
        const body = eventBody({
          type: 'customer.updated',
          account: acct,
          object: { id: `cus_drill_${i}`, object: 'customer' },
        });
        const res = await deliver(t.baseUrl!, body);
        // Stripe retries what is not answered 2xx: a delivery repeated now and then must stay one row.
        if (i % 5 === 0) await deliver(t.baseUrl!, body);
        sent.webhooks++;
        webhookIds.add(body.id as string);
        if (res.status !== 200) failures.push(`webhook ${res.status} ${JSON.stringify(res.json)}`);
      }
    };

    const traffic = Promise.all([paymentsLoop(0), paymentsLoop(1), webhooksLoop()]);
    const started = Date.now();
    const worker = await cluster.addWorker();
    await ds.query(`SELECT citus_rebalance_start(shard_transfer_mode => 'force_logical')`);
    let state = '';
    while (Date.now() - started < 180_000) {
      const [s] = (await ds.query(`SELECT state::text AS state FROM citus_rebalance_status()`)) as Array<{
        state: string;
      }>;
      state = s?.state ?? 'none';
      if (state === 'finished' || state === 'failed' || state === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const movedMs = Date.now() - started;
    stop = true;
    await traffic;

    const [{ shards }] = (await ds.query(
      `SELECT count(*)::int AS shards FROM citus_shards WHERE nodeport = $1`,
      [worker.port],
    )) as Array<{ shards: number }>;
    const after = { payments: await count('payment_routes'), webhooks: await count('stripe_webhook_events') };
    // Intake rows: the drill's events plus those the emulator delivered for the drill's payments meanwhile.
    const [{ drill }] = (await ds.query(
      `SELECT count(*)::int AS drill FROM stripe_webhook_events WHERE stripe_event_id = ANY($1)`,
      [[...webhookIds]],
    )) as Array<{ drill: number }>;
    const figures = {
      rebalance: state,
      seconds: Math.round(movedMs / 100) / 10,
      shards_on_new_worker: shards,
      payments_sent: sent.payments,
      webhooks_sent: sent.webhooks,
      failed_requests: failures.length,
      payment_rows: `${before.payments} + ${sent.payments} = ${after.payments}`,
      webhook_rows: `${drill} stored of ${webhookIds.size} drill events (every fifth delivered twice); inbox ${before.webhooks} -> ${after.webhooks} with the emulator's own deliveries`,
    };
    process.stdout.write(`[citus] rebalance drill: ${JSON.stringify(figures)}\n`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(state).toBe('finished');
    expect(shards).toBeGreaterThan(0);
    expect(after.payments).toBe(before.payments + sent.payments);
    expect(drill).toBe(webhookIds.size);
    // And each was processed (settled in one statement per batch, across shards, while they moved).
    const waiting = await eventually(
      'the drill events settled',
      async () => {
        const [{ n }] = (await ds.query(
          `SELECT count(*)::int AS n FROM stripe_webhook_events
            WHERE stripe_event_id = ANY($1) AND status IN ('received', 'failed')`,
          [[...webhookIds]],
        )) as Array<{ n: number }>;
        return n === 0 ? { n } : null;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(waiting.n).toBe(0);
    expect(after.webhooks).toBeGreaterThanOrEqual(before.webhooks + webhookIds.size);
  });
});

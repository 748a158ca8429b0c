import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { connectTenant, postPayment } from '../support/factory';
import {
  CONNECT_SECRET,
  countReceivedEvents,
  deliver,
  eventBody,
  inboxRowWhere,
  inboxRows,
  PLATFORM_SECRET,
} from '../webhooks/webhook-support';
import { CitusCluster, citusSuite } from './support/citus-cluster';
import { bootOnCluster, createTestDatabase, TenantFlows } from './support/citus-app';

const { install, describeCitus } = citusSuite();

/** The UTC hour `offset` hours from now's (analytics buckets start on whole hours). */
const hour = (offset: number): string =>
  new Date((Math.floor(Date.now() / 3_600_000) + offset) * 3_600_000).toISOString();

const REDIRECT_URI = 'http://127.0.0.1/connect/oauth/callback';

/** Replica A's environment, shared by replica B: one queue, one key, the same webhook secrets. */
const SHARED = {
  JOB_QUEUE_SCHEMA: 'jobs_citus_flows',
  ENCRYPTION_KEY: `citus:${Buffer.alloc(32, 9).toString('base64')}`,
  STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
  STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
};

/** The core flows of the service on a Citus cluster, two replicas of it sharing the coordinator. */
describeCitus('the core flows on a Citus cluster', () => {
  let cluster: CitusCluster;
  let a: TestApp;
  let b: TestApp;
  let flows: TenantFlows;
  let ds: DataSource;
  let receiver: { server: Server; url: string; bodies: Array<Record<string, unknown>> };

  beforeAll(async () => {
    if ('missing' in install) return;
    cluster = await CitusCluster.start(install, 2);
    const url = await createTestDatabase(cluster, 'connect_citus_flows');
    a = await bootOnCluster(url, {
      ...SHARED,
      OAUTH_REDIRECT_URI: REDIRECT_URI,
      OAUTH_SUCCESS_URL: 'https://platform.example/connected',
      OAUTH_FAILURE_URL: 'https://platform.example/failed',
    });
    // A second replica: same database and queue, A's emulator as its Stripe.
    b = await bootTestApp(
      { ...SHARED, DATABASE_URL: url, STRIPE_SECRET_KEY: 'sk_test_emulator', STRIPE_API_BASE: a.emulatorUrl },
      undefined,
      { listen: true },
    );
    flows = new TenantFlows(a);
    ds = a.app.get(DataSource);
    const bodies: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = { server, bodies, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
  }, 240_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
    cluster?.stop();
  });

  const admin = (tenant: string) => a.token({ tenant_id: tenant, roles: ['admin'] });
  const eventsOf = async (tenant: string, type: string): Promise<number> => {
    const [{ n }] = (await ds.query(
      `SELECT count(*)::int AS n FROM connect_events WHERE tenant_id = $1 AND type = $2`,
      [tenant, type],
    )) as Array<{ n: number }>;
    return n;
  };

  it('connects an account through OAuth (authorize, consent, callback)', async () => {
    const tenant = uniqueTenant('oauth');
    const start = await api(a)<{ url: string }>('POST', '/connect/oauth/url', {
      token: admin(tenant),
      body: { tenant_id: tenant },
    });
    expect(start.status).toBe(201);
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const location = new URL(consent.headers.get('location') as string);
    const res = await api(a)('GET', `${location.pathname}${location.search}`, {
      headers: { accept: 'application/json' },
    });
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({
      status: 200,
      body: {
        outcome: 'connected',
        tenant_id: tenant,
        account: { status: 'active', onboarding_method: 'oauth' },
      },
    });
    expect(await eventsOf(tenant, 'connect.account.connected')).toBe(1);
  });

  it('routes direct and destination payments, processes their webhooks and refunds one', async () => {
    const { tenant } = await flows.connect();
    const direct = await flows.pay(tenant, 10_000, 'direct', `d-${tenant}`);
    const destination = await flows.pay(tenant, 7_000, 'destination', `t-${tenant}`);
    expect([direct.status, destination.status]).toEqual([201, 201]);
    for (const p of [direct.body, destination.body]) {
      const done = await flows.until(p.id, 'completed');
      // Stripe's payment_intent.succeeded for it was taken in and processed (row locks on the cluster).
      const pi = done.payment_intent.id;
      await eventually(`webhooks of ${pi} processed`, async () => {
        const rows = (await ds.query(
          `SELECT status FROM stripe_webhook_events WHERE payload -> 'data' -> 'object' ->> 'id' = $1`,
          [pi],
        )) as Array<{ status: string }>;
        return rows.length > 0 && rows.every((r) => r.status === 'processed' || r.status === 'ignored');
      });
    }
    const refund = await flows.refund(direct.body.id, 4_000);
    expect({ status: refund.status, type: refund.body.type }).toEqual({ status: 201, type: 'refund' });
    await flows.until(refund.body.id, 'completed');
    const over = await flows.refund(direct.body.id, 6_001);
    expect(over.status).toBe(400);
    expect(await eventsOf(tenant, 'connect.refund.completed')).toBe(1);
    expect(await eventsOf(tenant, 'connect.payment.completed')).toBe(2);
  });

  it('splits a payment between two tenants (separate charge and transfers)', async () => {
    const [x, y] = [await flows.connect('split'), await flows.connect('split')];
    const rules = await api(a)<{ id: string }>('POST', '/connect/routing/rule-sets', {
      token: flows.platform,
      body: {
        name: `split-${Date.now()}`,
        rules: [
          {
            name: 'cart-split',
            when: { field: 'metadata.cart', op: 'eq', value: x.tenant },
            route: {
              charge_type: 'separate',
              fee: { basis_points: 500 },
              split: [
                { tenant_id: x.tenant, share_bps: 6_000 },
                { tenant_id: y.tenant, share_bps: 4_000 },
              ],
            },
          },
        ],
        default: {},
      },
    });
    expect(rules.status).toBe(201);
    const active = await api(a)('POST', `/connect/routing/rule-sets/${rules.body.id}/activate`, {
      token: flows.platform,
    });
    expect(active.status).toBe(200);
    const res = await postPayment(a, {
      tenant: x.tenant,
      amount: 10_000,
      idempotencyKey: `split-${x.tenant}`,
      extra: { metadata: { cart: x.tenant } },
    });
    expect({ status: res.status, charge_type: res.body.charge_type, fee: res.body.fee }).toEqual({
      status: 201,
      charge_type: 'separate',
      fee: 500,
    });
    const children = await eventually('both transfers made', async () => {
      const rows = (await ds.query(
        `SELECT tenant_id, amount::int AS amount, status FROM payment_routes
          WHERE parent_id = $1 AND type = 'transfer' ORDER BY amount DESC`,
        [res.body.id],
      )) as Array<{ tenant_id: string; amount: number; status: string }>;
      return rows.length === 2 && rows.every((r) => r.status === 'completed') ? rows : null;
    });
    expect(children).toEqual([
      { tenant_id: x.tenant, amount: 5_700, status: 'completed' },
      { tenant_id: y.tenant, amount: 3_800, status: 'completed' },
    ]);
  });

  it('processes one event delivered to two replicas exactly once, its effect applied once', async () => {
    const { tenant, acct } = await connectTenant(a, { prefix: 'twice' });
    const body = eventBody({
      type: 'account.updated',
      account: acct,
      object: { id: acct, object: 'account' },
    });
    const answers = await Promise.all([a, b, a, b].map((t) => deliver(t.baseUrl!, body)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const id = body.id as string;
    const row = await inboxRowWhere(ds, id, (r) => r.status === 'processed', 'processed');
    expect({ rows: (await inboxRows(ds, id)).length, attempts: row.attempts, tenant: row.tenant_id }).toEqual(
      {
        rows: 1,
        attempts: 1,
        tenant,
      },
    );
    expect(await countReceivedEvents(ds, id)).toBe(1);
  });

  it('delivers a ConnectEvent to a subscription', async () => {
    const { tenant } = await flows.connect('sub');
    const sub = await api(a)<{ id: string }>('POST', '/connect/event-subscriptions', {
      token: admin(tenant),
      body: { url: receiver.url, event_types: ['connect.payment.completed'] },
    });
    expect(sub.status).toBe(201);
    const paid = await flows.pay(tenant, 2_500, 'direct', `sub-${tenant}`);
    expect(paid.status).toBe(201);
    const got = await eventually('the event at the receiver', async () =>
      receiver.bodies.find((e) => e.tenant_id === tenant && e.type === 'connect.payment.completed'),
    );
    expect((got.data as { payment_route_id: string }).payment_route_id).toBe(paid.body.id);
    await eventually('the delivery recorded as succeeded', async () => {
      const rows = (await ds.query(
        `SELECT status FROM event_deliveries WHERE tenant_id = $1 AND subscription_id = $2`,
        [tenant, sub.body.id],
      )) as Array<{ status: string }>;
      return rows.length === 1 && rows[0].status === 'succeeded';
    });
  });

  it('runs a reconciliation that finishes with its findings', async () => {
    const { tenant, acct } = await flows.connect('recon');
    const paid = await flows.pay(tenant, 3_300, 'direct', `r-${tenant}`);
    await flows.until(paid.body.id, 'completed');
    // A route Stripe never saw: the run must find it missing there.
    await ds.query(
      `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
         stripe_idempotency_key, stripe_payment_intent_id)
       VALUES ($1, $2, 'payment', 'completed', 'direct', 1234, 0, 'usd', $3, 'pi_never_on_stripe')`,
      [tenant, acct, `ghost-${tenant}`],
    );
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const start = await api(a)<{ id: string }>('POST', '/connect/reconciliation/runs', {
      token: flows.platform,
      body: { tenant_id: tenant, from, to, grace_seconds: 0 },
    });
    expect(start.status).toBe(202);
    const run = await eventually(
      'the run finished',
      async () => {
        const r = await flows.get<{ status: string; error: string | null; totals: Record<string, number> }>(
          `/connect/reconciliation/runs/${start.body.id}`,
        );
        return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : null;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: null });
    const items = await flows.get<{ data: Array<{ category: string; payment_route_id: string | null }> }>(
      `/connect/reconciliation/runs/${start.body.id}/items?limit=100`,
    );
    expect(items.body.data.map((i) => i.category)).toEqual(['missing_stripe']);
  });

  it('answers an analytics query that matches the payments', async () => {
    const { tenant } = await flows.connect('stats');
    for (const [i, amount] of [1_000, 2_000, 4_500].entries()) {
      const p = await flows.pay(tenant, amount, 'direct', `s-${tenant}-${i}`);
      await flows.until(p.body.id, 'completed');
    }
    await ds.query(`SELECT analytics_fold(1000000)`);
    const res = await api(a)<{ totals: Array<{ metrics: Record<string, number> }> }>(
      'POST',
      '/connect/analytics/query',
      {
        token: flows.platform,
        body: {
          time_range: { from: hour(-1), to: hour(2) },
          granularity: 'total',
          filters: { tenant_id: [tenant], currency: ['usd'] },
          metrics: ['payments_succeeded', 'gross_volume'],
        },
      },
    );
    expect({ status: res.status, body: res.status === 200 ? null : (res.body as unknown) }).toEqual({
      status: 200,
      body: null,
    });
    const [want] = (await ds.query(
      `SELECT count(*)::int AS n, sum(amount)::int AS gross FROM payment_routes
        WHERE tenant_id = $1 AND type = 'payment' AND status = 'completed'`,
      [tenant],
    )) as Array<{ n: number; gross: number }>;
    expect(want).toEqual({ n: 3, gross: 7_500 });
    expect(res.body.totals[0].metrics).toEqual({ payments_succeeded: 3, gross_volume: 7_500 });
  });
});

/* eslint-disable */
// `npm run bench:analytics` (= `npm run build && node test/load/analytics-bench.js`): analytics at 1,000,000 routes.
// Not a test: it prints figures (and writes bench-results/analytics.json), it asserts nothing.
//
//   1. seeds 1,000,000 payment routes over 90 days (INSERT ... SELECT generate_series, trigger off), then builds the
//      rollups with the service's own rebuild (AnalyticsService.rebuild, the code behind `npm run analytics:rebuild`);
//   2. p50/p99 of a 90-day daily query (group_by currency, every metric) for the largest tenant and for the whole
//      platform, through AnalyticsService.query (database plus answer building, no HTTP);
//   3. the cost of the trigger on route writes, trigger on and off alternately in the same run, on the same
//      1,000,000-row table: a route INSERT, a status UPDATE, and the database work of a payment creation (INSERT, then
//      one transaction: SELECT ... FOR UPDATE, UPDATE, outbox INSERT), from 4 concurrent connections; then the same
//      status UPDATE with 8 connections all hitting one hot bucket (one tenant, currency and hour).
//
// Options: TEST_DATABASE_URL (server for a scratch database, dropped at the end; unset: embedded PostgreSQL),
// --routes=1000000, --queries=300, --ops=2000 (operations per round and mode).
const path = require('node:path');
const fs = require('node:fs');
const { Client } = require('pg');
const { startEmbeddedPostgres } = require('../setup/embedded-postgres');

const ROOT = path.resolve(__dirname, '../..');
const dist = (p) => require(path.join(ROOT, 'dist', p));
const argv = process.argv.slice(2);
const opt = (name, dflt) => Number((argv.find((a) => a.startsWith(`--${name}=`)) ?? `=${dflt}`).split('=')[1]);
const ROUTES = opt('routes', 1_000_000);
const QUERIES = opt('queries', 300);
const OPS = opt('ops', 2000);
const TENANTS = 50;
const DAY = 86_400_000;
const log = (msg) => process.stdout.write(`[analytics-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const stats = (xs) => ({
  n: xs.length,
  mean: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3),
  p50: +pct(xs, 50).toFixed(3),
  p99: +pct(xs, 99).toFixed(3),
});
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let embedded = null;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres('connect-analytics-bench-pg');
    serverUrl = embedded.url;
  }
  const dbName = `connect_analytics_bench_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const { DataSource } = require('typeorm');
  const db = dist('libs/database/src/index.js');
  const ds = await new DataSource(db.dataSourceOptions(url.toString(), 10)).initialize();
  const results = { routes: ROUTES, tenants: TENANTS };
  try {
    await db.runMigrationsLocked(ds);
    log(`seeding ${ROUTES.toLocaleString('en')} routes over 90 days (trigger off)`);
    let t0 = now();
    await ds.query(`ALTER TABLE payment_routes DISABLE TRIGGER analytics_rollup_route_insert_delete`);
    // Skewed tenants (tenant 0 is the largest); each tenant one account, one charge type, one or two currencies.
    await ds.query(`
      INSERT INTO payment_routes (id, tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
                                  stripe_idempotency_key, routing_rule, stripe_details, created_at)
      SELECT gen_random_uuid(), 'bench_t' || t, 'acct_bench_' || t,
             (CASE WHEN k < 0.82 THEN 'payment' WHEN k < 0.97 THEN 'refund' ELSE 'transfer' END)::payment_route_type,
             (CASE WHEN s < 0.85 THEN 'completed' WHEN s < 0.95 THEN 'failed' ELSE 'pending' END)::payment_route_status,
             (CASE WHEN t % 2 = 0 THEN 'direct' ELSE 'destination' END)::charge_type,
             amount, amount * 29 / 1000 + 30,
             CASE WHEN t % 3 = 0 THEN (CASE WHEN c < 0.7 THEN 'usd' ELSE 'eur' END) WHEN t % 3 = 1 THEN 'eur' ELSE 'jpy' END,
             'bench:' || g,
             CASE WHEN rr < 0.6 THEN NULL WHEN rr < 0.85 THEN 'rule_a' ELSE 'rule_b' END,
             CASE
               WHEN k < 0.82 AND s >= 0.85 AND s < 0.90 THEN '{"declined": true}'::jsonb
               WHEN k < 0.82 AND s < 0.005 THEN jsonb_build_object('dispute', jsonb_build_object('amount', amount,
                    'opened_at', extract(epoch FROM at)::bigint + 259200, 'created', extract(epoch FROM at)::bigint + 259200))
               WHEN k < 0.82 AND s >= 0.005 AND s < 0.05 THEN jsonb_build_object('application_fee', jsonb_build_object(
                    'amount', amount * 29 / 1000 + 30, 'amount_refunded', (amount * 29 / 1000 + 30) / 2,
                    'created', extract(epoch FROM at)::bigint + 86400, 'refunds', jsonb_build_array(jsonb_build_object(
                    'id', 'fr_' || g, 'amount', (amount * 29 / 1000 + 30) / 2, 'created', extract(epoch FROM at)::bigint + 86400))))
               ELSE '{}'::jsonb END,
             at
        FROM (SELECT g, floor(${TENANTS} * power(random(), 2))::int AS t, random() AS k, random() AS s, random() AS c,
                     random() AS rr, 500 + floor(random() * 20000)::int AS amount,
                     date_trunc('day', now(), 'UTC') + interval '1 day' - random() * interval '90 days' AS at
                FROM generate_series(1, ${ROUTES}) g) x`);
    await ds.query(`ALTER TABLE payment_routes ENABLE TRIGGER analytics_rollup_route_insert_delete`);
    results.seed_seconds = +((now() - t0) / 1000).toFixed(1);
    log(`seeded in ${results.seed_seconds} s; rebuilding the rollups (AnalyticsService.rebuild)`);
    const { AnalyticsService } = dist('apps/connect-service/src/analytics/analytics.service.js');
    const analytics = new AnalyticsService(ds);
    t0 = now();
    const rebuilt = await analytics.rebuild(new Date(Date.now() - 100 * DAY));
    results.rebuild = { ...rebuilt, seconds: +((now() - t0) / 1000).toFixed(1) };
    await ds.query('VACUUM (ANALYZE) payment_routes, analytics_rollups_hourly, analytics_rollups_daily');
    log(`rebuild: ${JSON.stringify(results.rebuild)}`);

    // 2. Queries.
    const to = new Date(Math.floor(Date.now() / DAY) * DAY + DAY);
    const from = new Date(to.getTime() - 90 * DAY);
    const metrics = ['payments_attempted', 'payments_succeeded', 'payments_failed', 'payments_declined', 'success_rate',
      'gross_volume', 'fees_collected', 'fees_refunded', 'refunds_count', 'refunds_amount', 'disputes_count',
      'disputes_amount', 'net_platform_revenue', 'average_ticket', 'transfer_volume'];
    const dto = { time_range: { from: from.toISOString(), to: to.toISOString() }, granularity: '1d', group_by: ['currency'], metrics };
    const callers = {
      one_tenant: { sub: 'bench', tenantId: 'bench_t0', roles: ['viewer'], scopes: ['payments:read'], method: 'jwt' },
      platform: { sub: 'bench', tenantId: null, roles: ['platform'], scopes: ['payments:read'], method: 'jwt' },
    };
    const [{ n: tenantRoutes }] = await ds.query(`SELECT count(*)::int AS n FROM payment_routes WHERE tenant_id = 'bench_t0'`);
    results.largest_tenant_routes = tenantRoutes;
    results.queries = {};
    for (const [name, caller] of Object.entries(callers)) {
      for (let i = 0; i < 20; i++) await analytics.query(caller, dto);
      const times = [];
      let buckets = 0;
      for (let i = 0; i < QUERIES; i++) {
        const s = now();
        const answer = await analytics.query(caller, dto);
        times.push(now() - s);
        buckets = answer.buckets.length;
      }
      results.queries[name] = { ...stats(times), buckets };
      log(`90-day daily query, ${name}: ${JSON.stringify(results.queries[name])} ms`);
    }
    const [{ h, d }] = await ds.query(`SELECT (SELECT count(*) FROM analytics_rollups_hourly)::int AS h, (SELECT count(*) FROM analytics_rollups_daily)::int AS d`);
    results.rollup_rows = { hourly: h, daily: d };

    // 3. Trigger cost on writes.
    const clients = await Promise.all(Array.from({ length: 8 }, async () => {
      const c = new Client({ connectionString: url.toString() });
      await c.connect();
      return c;
    }));
    let seq = 0;
    const insertSql = `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency, stripe_idempotency_key)
                       VALUES ($1, $2, 'payment', 'pending', 'direct', $3, $4, $5, $6) RETURNING id`;
    const newRoute = async (c, tenant, currency) => {
      const amount = 500 + ((seq * 7919) % 20000);
      const { rows } = await c.query(insertSql, [tenant, `acct_${tenant}`, amount, 50, currency, `bench:w:${++seq}:${process.pid}`]);
      return rows[0].id;
    };
    const setTrigger = async (on) => {
      for (const name of ['analytics_rollup_route_insert_delete', 'analytics_rollup_route_update'])
        await ds.query(`ALTER TABLE payment_routes ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`);
    };
    const round = async (n, conns, hot) => {
      const out = { insert: [], update: [], payment_creation: [] };
      let next = 0;
      await Promise.all(clients.slice(0, conns).map(async (c) => {
        while (next < n) {
          next++;
          const tenant = hot ? 'bench_hot' : `bench_t${Math.floor(Math.random() * TENANTS)}`;
          const currency = hot ? 'usd' : ['usd', 'eur', 'jpy'][Math.floor(Math.random() * 3)];
          let s = now();
          const id = await newRoute(c, tenant, currency);
          out.insert.push(now() - s);
          // The rest of a payment creation: the route locked, its PaymentIntent stored, the outbox event written.
          s = now();
          await c.query('BEGIN');
          await c.query('SELECT id FROM payment_routes WHERE id = $1 FOR UPDATE', [id]);
          await c.query(`UPDATE payment_routes SET stripe_payment_intent_id = $2, stripe_status = 'succeeded', version = version + 1, updated_at = now() WHERE id = $1`, [id, `pi_${id}`]);
          await c.query(`INSERT INTO connect_events (type, tenant_id, data) VALUES ('connect.payment.routed', $1, '{}')`, [tenant]);
          await c.query('COMMIT');
          out.payment_creation.push(out.insert[out.insert.length - 1] + now() - s);
          // The webhook's completion: a status change, which moves the route's contribution.
          s = now();
          await c.query('BEGIN');
          await c.query('SELECT id FROM payment_routes WHERE id = $1 FOR UPDATE', [id]);
          await c.query(`UPDATE payment_routes SET status = 'completed', version = version + 1, updated_at = now() WHERE id = $1`, [id]);
          await c.query(`INSERT INTO connect_events (type, tenant_id, data) VALUES ('connect.payment.completed', $1, '{}')`, [tenant]);
          await c.query('COMMIT');
          out.update.push(now() - s);
        }
      }));
      return out;
    };
    const writes = {};
    for (const [label, conns, hot] of [['spread_4_connections', 4, false], ['hot_bucket_8_connections', 8, true]]) {
      const acc = { on: { insert: [], update: [], payment_creation: [] }, off: { insert: [], update: [], payment_creation: [] } };
      await round(200, conns, hot); // warm-up
      for (const mode of ['on', 'off', 'on', 'off']) {
        await setTrigger(mode === 'on');
        const r = await round(OPS / 2, conns, hot);
        for (const k of Object.keys(r)) acc[mode][k].push(...r[k]);
      }
      await setTrigger(true);
      writes[label] = {};
      for (const k of ['insert', 'payment_creation', 'update']) {
        const on = stats(acc.on[k]);
        const off = stats(acc.off[k]);
        writes[label][k] = { with_trigger: on, without_trigger: off, added_mean_ms: +(on.mean - off.mean).toFixed(3), added_pct: +(((on.mean - off.mean) / off.mean) * 100).toFixed(1) };
        log(`${label} ${k}: with trigger ${on.mean} ms mean (p99 ${on.p99}), without ${off.mean} ms (p99 ${off.p99}): +${writes[label][k].added_pct} %`);
      }
    }
    results.writes = writes;
    await Promise.all(clients.map((c) => c.end()));
    // The trigger never drifts: what it maintained during the write rounds equals a fresh recount.
    const check = async () => (await ds.query(`SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) AS h FROM (SELECT tenant_id, bucket_start, currency, payments_attempted, payments_succeeded, gross_volume FROM analytics_rollups_daily WHERE bucket_start >= $1 AND (payments_attempted <> 0 OR gross_volume <> 0)) x`, [new Date(Date.now() - DAY * 2)]))[0].h;
    const before = await check();
    // Write rounds with the trigger off left rows uncounted: the rebuild recounts them; equal only if the rest was exact.
    await analytics.rebuild(new Date(Date.now() - DAY));
    results.note = 'write rounds with the trigger off leave their rows out of the rollups until the rebuild';
    results.rebuild_after_writes_changed_rollups = before !== (await check());
    fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench-results', 'analytics.json'), JSON.stringify(results, null, 2));
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await ds.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    if (embedded) await embedded.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

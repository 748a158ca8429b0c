/* eslint-disable */
// `npm run bench:analytics` (= `npm run build && node test/load/analytics-bench.js`): analytics at 1,000,000 routes.
// Not a test: it prints figures (and writes bench-results/analytics.json), it asserts nothing.
//
//   1. seeds 1,000,000 payment routes over 90 days (INSERT ... SELECT generate_series, trigger off), then builds the
//      rollups with the service's own rebuild (AnalyticsService.rebuild, the code behind `npm run analytics:rebuild`);
//   2. p50/p99 of a 90-day daily query (group_by currency, every metric) for the largest tenant and for the whole
//      platform, through AnalyticsService.query (database plus answer building, no HTTP);
//   3. the cost of the trigger on route writes, on the same 1,000,000-row table, in the same run: a route INSERT, the
//      database work of a payment creation (INSERT, then one transaction: SELECT ... FOR UPDATE, UPDATE, outbox
//      INSERT) and a webhook's status UPDATE, from 8 connections at once, 4 with the trigger and 4 without
//      (session_replication_role = replica; needs a superuser), spread over tenants and then all on one hot bucket;
//      the trigger's own server time per call (pg_stat_user_functions); and POST /connect/payments end to end through
//      the service in-process (its bundled emulator as Stripe), trigger on and off in alternating rounds; then the
//      queries again with the writes' deltas unfolded, and the fold that moves them into the rollups.
//
// Options: TEST_DATABASE_URL (server for a scratch database, dropped at the end; unset: embedded PostgreSQL),
// --routes=1000000, --queries=300, --ops=2000 (operations per round and mode), --keep (keep the scratch database).
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
    const runQueries = async (label) => {
      const out = {};
      for (const [name, caller] of Object.entries(callers)) {
        for (let i = 0; i < 20; i++) await analytics.answer(caller, dto);
        const times = [];
        let buckets = 0;
        for (let i = 0; i < QUERIES; i++) {
          const s = now();
          const answer = await analytics.answer(caller, dto);
          times.push(now() - s);
          buckets = answer.buckets.length;
        }
        out[name] = { ...stats(times), buckets };
        log(`90-day daily query (${label}), ${name}: ${JSON.stringify(out[name])} ms`);
      }
      return out;
    };
    results.queries = await runQueries('deltas folded');
    results.rollup_rows = (await ds.query(`SELECT (SELECT count(*) FROM analytics_rollups_hourly)::int AS hourly,
      (SELECT count(*) FROM analytics_rollups_daily)::int AS daily,
      (SELECT count(*) FROM analytics_platform_rollups_hourly)::int AS platform_hourly,
      (SELECT count(*) FROM analytics_platform_rollups_daily)::int AS platform_daily`))[0];
    log(`rollup rows: ${JSON.stringify(results.rollup_rows)}`);

    // 3. Trigger cost on writes. (a) Database level: half the connections run with the trigger, half without
    // (session_replication_role = replica skips ordinary triggers for that session), at the same time, so both
    // sides see the same load. (b) The trigger's own server time per call (pg_stat_user_functions).
    await ds.query(`ALTER DATABASE "${dbName}" SET track_functions = 'all'`);
    const clients = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const c = new Client({ connectionString: url.toString() });
      await c.connect();
      if (i % 2 === 1) await c.query(`SET session_replication_role = replica`);
      return { c, mode: i % 2 === 0 ? 'on' : 'off' };
    }));
    let seq = 0;
    const insertSql = `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency, stripe_idempotency_key)
                       VALUES ($1, $2, 'payment', 'pending', 'direct', $3, $4, $5, $6) RETURNING id`;
    const round = async (n, hot) => {
      const out = { on: { insert: [], payment_creation: [], update: [] }, off: { insert: [], payment_creation: [], update: [] } };
      let next = 0;
      await Promise.all(clients.map(async ({ c, mode }) => {
        while (next < n) {
          next++;
          const tenant = hot ? 'bench_hot' : `bench_t${Math.floor(Math.random() * TENANTS)}`;
          const currency = hot ? 'usd' : ['usd', 'eur', 'jpy'][Math.floor(Math.random() * 3)];
          let s = now();
          const { rows } = await c.query(insertSql, [tenant, `acct_${tenant}`, 500 + ((seq * 7919) % 20000), 50, currency, `bench:w:${++seq}`]);
          const id = rows[0].id;
          const inserted = now() - s;
          out[mode].insert.push(inserted);
          // The rest of a payment creation: the route locked, its PaymentIntent stored, the outbox event written.
          s = now();
          await c.query('BEGIN');
          await c.query('SELECT id FROM payment_routes WHERE id = $1 FOR UPDATE', [id]);
          await c.query(`UPDATE payment_routes SET stripe_payment_intent_id = $2, stripe_status = 'succeeded', version = version + 1, updated_at = now() WHERE id = $1`, [id, `pi_${id}`]);
          await c.query(`INSERT INTO connect_events (type, tenant_id, data) VALUES ('connect.payment.routed', $1, '{}')`, [tenant]);
          await c.query('COMMIT');
          out[mode].payment_creation.push(inserted + now() - s);
          // The webhook's completion: a status change, which moves the route's contribution.
          s = now();
          await c.query('BEGIN');
          await c.query('SELECT id FROM payment_routes WHERE id = $1 FOR UPDATE', [id]);
          await c.query(`UPDATE payment_routes SET status = 'completed', version = version + 1, updated_at = now() WHERE id = $1`, [id]);
          await c.query(`INSERT INTO connect_events (type, tenant_id, data) VALUES ('connect.payment.completed', $1, '{}')`, [tenant]);
          await c.query('COMMIT');
          out[mode].update.push(now() - s);
        }
      }));
      return out;
    };
    const compare = (r) => {
      const o = {};
      for (const k of ['insert', 'payment_creation', 'update']) {
        const on = stats(r.on[k]);
        const off = stats(r.off[k]);
        o[k] = { with_trigger: on, without_trigger: off, added_p50_ms: +(on.p50 - off.p50).toFixed(3), added_p50_pct: +(((on.p50 - off.p50) / off.p50) * 100).toFixed(1) };
      }
      return o;
    };
    const writes = {};
    for (const [label, hot] of [['spread', false], ['hot_bucket', true]]) {
      await round(200, hot); // warm-up
      await ds.query('SELECT pg_stat_reset()');
      const r = await round(OPS, hot);
      // Each backend flushes its function statistics lazily: force it, then read.
      for (const { c } of clients) await c.query('SELECT pg_stat_force_next_flush()').then(() => c.query('SELECT 1'));
      await new Promise((res) => setTimeout(res, 300));
      const [fn] = await ds.query(`SELECT calls::int, total_time FROM pg_stat_user_functions WHERE funcname = 'analytics_rollup_route'`);
      writes[label] = { ...compare(r), trigger_server_ms_per_call: fn ? +(fn.total_time / fn.calls).toFixed(4) : null, trigger_calls: fn?.calls ?? 0 };
      for (const k of ['insert', 'payment_creation', 'update'])
        log(`${label} ${k}: p50 with trigger ${writes[label][k].with_trigger.p50} ms, without ${writes[label][k].without_trigger.p50} ms (+${writes[label][k].added_p50_pct} %)`);
      log(`${label}: the trigger itself, server side: ${writes[label].trigger_server_ms_per_call} ms per call over ${writes[label].trigger_calls} calls`);
    }
    results.writes = writes;
    await Promise.all(clients.map(({ c }) => c.end()));

    // (c) End to end: POST /connect/payments through the service (in-process, its bundled emulator as Stripe),
    // trigger on and off in 20 alternating rounds, workers off (the request path only).
    Object.assign(process.env, {
      DATABASE_URL: url.toString(),
      JWT_SECRET: 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'silent',
      STRIPE_EMULATOR_PORT: '0',
      RATE_LIMIT_ENABLED: 'false',
      // The request path only: webhook processing (and its own trigger calls) would add unrelated noise.
      WORKERS_ENABLED: 'false',
    });
    const { createApp } = dist('apps/connect-service/src/http/create-app.js');
    const app = await createApp({ logger: false });
    await app.init();
    try {
      const { StripeGateway, STRIPE_CONNECTION } = dist('libs/stripe-gateway/src/index.js');
      const gateway = app.get(StripeGateway);
      const account = await gateway.createAccount({ type: 'express', country: 'US' });
      await fetch(`${app.get(STRIPE_CONNECTION).apiBase}/_emulator/accounts/${account.id}/verification`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'complete' }),
      });
      await ds.query(`INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, charges_enabled, onboarding_method, account_type)
                      VALUES ('bench_e2e', $1, 'active', true, 'account_link', 'express')`, [account.id]);
      const token = require('jsonwebtoken').sign({ roles: ['platform'], scope: 'payments:write payments:read' }, process.env.JWT_SECRET, { algorithm: 'HS256', subject: 'bench', expiresIn: '1h' });
      const pay = async () => {
        const s = now();
        const res = await app.inject({ method: 'POST', url: '/connect/payments', headers: { authorization: `Bearer ${token}` },
          payload: { tenant_id: 'bench_e2e', payment_data: { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true } } });
        if (res.statusCode !== 201) throw new Error(`payment: ${res.statusCode} ${res.body}`);
        return now() - s;
      };
      for (let i = 0; i < 30; i++) await pay();
      const e2e = { on: [], off: [] };
      for (let r = 0; r < 20; r++) {
        const mode = r % 2 === 0 ? 'on' : 'off';
        for (const name of ['analytics_rollup_route_insert_delete', 'analytics_rollup_route_update'])
          await ds.query(`ALTER TABLE payment_routes ${mode === 'on' ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`);
        const per = Math.max(24, Math.floor(OPS / 40));
        // 4 concurrent callers, as a platform backend would.
        await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < per / 4; i++) e2e[mode].push(await pay()); }));
      }
      for (const name of ['analytics_rollup_route_insert_delete', 'analytics_rollup_route_update'])
        await ds.query(`ALTER TABLE payment_routes ENABLE TRIGGER ${name}`);
      const on = stats(e2e.on);
      const off = stats(e2e.off);
      results.payment_creation_e2e = { with_trigger: on, without_trigger: off, added_p50_pct: +(((on.p50 - off.p50) / off.p50) * 100).toFixed(1),
        trigger_share_of_p50_pct: +(((writes.spread.trigger_server_ms_per_call ?? 0) / off.p50) * 100).toFixed(2) };
      log(`POST /connect/payments: p50 with trigger ${on.p50} ms, without ${off.p50} ms (+${results.payment_creation_e2e.added_p50_pct} %); the trigger's server time is ${results.payment_creation_e2e.trigger_share_of_p50_pct} % of it`);
    } finally {
      await app.close();
    }

    // Queries while the write rounds' deltas are still unfolded (the fold runs once a minute), then the fold itself.
    const [{ n: pending }] = await ds.query('SELECT count(*)::int AS n FROM analytics_rollup_deltas');
    results.queries_with_unfolded_deltas = { deltas: pending, ...(await runQueries(`${pending} deltas unfolded`)) };
    const f0 = now();
    const folded = await analytics.fold();
    results.fold = { deltas: folded, ms: +(now() - f0).toFixed(1) };
    log(`fold: ${JSON.stringify(results.fold)}`);
    fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench-results', 'analytics.json'), JSON.stringify(results, null, 2));
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await ds.destroy();
    if (argv.includes('--keep')) log(`kept database ${dbName}`);
    else await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    if (embedded) await embedded.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/* eslint-disable */
// `npm run bench` (= `npm run build && node test/load/bench.js`): the service against baselines, same run, same
// machine. Every process that serves load runs on its own: the emulator, the service (dist/.../main.js, production
// build) as an API/intake replica with WORKERS_ENABLED=false, a worker replica started only to drain queued work,
// each baseline, and autocannon. Results: bench-results/latest.json and bench-results/latest.md (the table
// BENCHMARKS.md keeps). Helpers in lib/ (processes, statistics, queues, seeds, the Citus cluster, the table), one
// module per scenario group in scenarios/.
//
// Options (flags or env):
//   --only=1,2,3,4,5,9,10,11,12,13,14,15  scenarios to run (6, memory, is measured through whatever runs); 7 (busy
//                          platform) and 8 (signed deliveries, production rate limits) run only when named: --only=7,8.
//                          12 thin-event intake, 13 Account Session creation, 14 cached balance
//                          read, 15 payments on a Citus cluster (skipped when Citus is not installed)
//   --rounds=3             alternating rounds (service, fair, bare, service, ...) of scenarios 1-4 and 12-15; medians
//   --duration=10          seconds per measured run (BENCH_DURATION); --warmup=2 (BENCH_WARMUP)
//   --burst-duration=60    seconds of scenario 9's intake burst (BENCH_BURST_DURATION)
//   --inbox-rows=5000000   rows bulk-loaded into the webhook inbox for scenario 11 (BENCH_INBOX_ROWS)
//   --purge-backlog-days=1 days of rows past the retention cutoff still holding their payload in scenario 11 (1: what
//                          the daily job finds in steady state; 30: a first purge of everything past the cutoff)
//   --tenants=10000        active tenants of scenario 10 (BENCH_TENANTS)
//   --revocations=1000     active JWT revocations of other tokens loaded before scenario 4 (BENCH_REVOCATIONS)
//   --busy-duration=60     seconds of scenario 7 (BENCH_BUSY_DURATION)
//   --profile              start the API replica with --cpu-prof (profiles in bench-results/profile/; summarise them
//                          with node test/load/profile-summary.js bench-results/profile/*.cpuprofile)
//   --no-baseline          service only (quick iterations while optimising)
//   LOG_LEVEL              the service's log level (default info, as production runs); logs go to bench-results/service*.log
//   TEST_DATABASE_URL      PostgreSQL server to create a scratch database connect_bench_<ts> on (dropped at the end);
//                          unset: an embedded PostgreSQL in a temporary folder
//   TEST_REDIS_URL         Redis for the service's cache and the read baselines; unset: a redis-server of the bench's
//                          own on a free port when the binary is on PATH, else none (in-process cache, 4's baselines skipped)
//   DATABASE_POOL_SIZE     pool size of the service and of the baselines alike (default 10)
//   BENCH_NODE_OPTIONS     NODE_OPTIONS for the service processes only (e.g. heap limits)
//   OTEL_*                 passed to the service: OTEL_EXPORTER_OTLP_ENDPOINT set = tracing on
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const {
  OUT,
  WEBHOOK_SECRET,
  JWT_SECRET,
  ENCRYPTION_KEY,
  ALL_SCOPES,
  ONLY,
  ROUNDS,
  DURATION,
  WARMUP,
  BURST_DURATION,
  CONNECTIONS,
  LOG_LEVEL,
  POOL_SIZE,
  PROFILE,
  BASELINES,
} = require('./lib/options');
const {
  children,
  cleanups,
  log,
  loadAvg,
  startDatabase,
  startRedis,
  forkReady,
  startService,
  stopChild,
  rssSampler,
} = require('./lib/procs');
const { setBenchDb } = require('./lib/stats');
const { memoryBreakdown } = require('./lib/queue');
const { render } = require('./lib/render');
const { scenario1, scenario2, drainRequests, scenario11 } = require('./scenarios/intake');
const { scenario3 } = require('./scenarios/payments');
const { scenario4, scenario14 } = require('./scenarios/cached');
const { scenario5small, scenario5large, scenario10 } = require('./scenarios/reads');
const { scenario9 } = require('./scenarios/processing');
const { scenario12 } = require('./scenarios/thin');
const { scenario13 } = require('./scenarios/sessions');
const { scenario15 } = require('./scenarios/citus');
const { scenario7, scenario8 } = require('./scenarios/platform');

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  if (PROFILE) fs.rmSync(path.join(OUT, 'profile'), { recursive: true, force: true });
  const startedAt = Date.now();
  const machine = {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    ram_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_avg_at_start: loadAvg(),
  };
  log(
    `machine: ${machine.nproc} x ${machine.cpu}, ${machine.ram_gb} GB, node ${machine.node}, load ${machine.load_avg_at_start}`,
  );

  const database = await startDatabase();
  const db = new Client({ connectionString: database.url });
  let redis = { url: null, source: 'none' };
  const results = {
    machine,
    settings: {
      rounds: ROUNDS,
      duration_s: DURATION,
      warmup_s: WARMUP,
      burst_duration_s: BURST_DURATION,
      connections: CONNECTIONS,
      log_level: LOG_LEVEL,
      pool_size: Number(POOL_SIZE),
      database: database.embedded ? 'embedded PostgreSQL' : 'TEST_DATABASE_URL',
      profile: PROFILE,
      baselines: BASELINES,
    },
    scenarios: {},
  };
  let api;
  let rss;
  try {
    redis = await startRedis();
    results.settings.redis = redis.source;
    const emulator = await forkReady(path.join(__dirname, 'emulator-child.js'), {});
    log(`emulator at ${emulator.url}`);
    const serviceEnv = {
      NODE_ENV: redis.url ? 'production' : 'development',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: POOL_SIZE,
      ...(redis.url ? { REDIS_URL: redis.url } : {}),
      STRIPE_SECRET_KEY: 'sk_test_bench',
      STRIPE_API_BASE: emulator.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      JWT_SECRET,
      ENCRYPTION_KEY,
      LOG_LEVEL,
      RATE_LIMIT_ENABLED: 'false',
      // OTEL_EXPORTER_OTLP_ENDPOINT=... npm run bench measures the service with tracing on (off otherwise).
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_'))),
    };
    // The API/intake replica of the scale-out layout: it serves every request scenario and runs no job workers.
    api = await startService({ ...serviceEnv, WORKERS_ENABLED: 'false' }, null, 'service.log', PROFILE);
    rss = rssSampler(api.child.pid);
    log(
      `API replica at ${api.url} (pid ${api.child.pid}, WORKERS_ENABLED=false, NODE_ENV=${serviceEnv.NODE_ENV}, LOG_LEVEL=${LOG_LEVEL}${PROFILE ? ', --cpu-prof' : ''})`,
    );
    await db.connect();
    setBenchDb(db);

    const baseEnv = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: POOL_SIZE,
      STRIPE_API_BASE: emulator.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      JWT_SECRET,
      ...(redis.url ? { REDIS_URL: redis.url } : {}),
    };
    const jwt = require('jsonwebtoken');
    // A jti as identity providers set: the revocation check looks it up too (scenario 4).
    const token = jwt.sign({ roles: ['platform'], scope: ALL_SCOPES }, JWT_SECRET, {
      algorithm: 'HS256',
      subject: 'bench-platform',
      jwtid: `bench-${Date.now().toString(36)}`,
      expiresIn: '2h',
    });

    // A connected, active tenant whose account exists in the emulator (payments are direct charges on it).
    const Stripe = require('stripe');
    const apiBase = new URL(emulator.url);
    const stripe = new Stripe('sk_test_bench', {
      host: apiBase.hostname,
      port: Number(apiBase.port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const connectedAccount = async () => {
      const a = await stripe.accounts.create({ type: 'express', country: 'US' });
      await fetch(`${emulator.url}/_emulator/accounts/${a.id}/verification`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'complete' }),
      });
      return a;
    };
    const acct = await connectedAccount();
    // Its own tenant per run: the service's cache entries in a shared Redis (an earlier or concurrent run's account
    // and balance, of another emulator account) must not answer for this run's scratch database.
    const tenant = `tenant_bench_${Date.now().toString(36)}`;
    await db.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
       VALUES ($1, $2, 'active', 'account_link', 'express', true, true, true)`,
      [tenant, acct.id],
    );

    const run = Date.now().toString(36);
    const runSince = new Date(Date.now() - 1000);
    const S = results.scenarios;
    // Each scenario's fair and bare baselines run beside it and stop after its rounds (20 connections, not 60).
    const withBaselines = async (scripts, fn) => {
      const up = {};
      try {
        // A baseline is a script, or {script, env} for one started with settings of its own.
        if (BASELINES)
          for (const [who, b] of Object.entries(scripts)) {
            if (!b) continue;
            const { script, env } = typeof b === 'string' ? { script: b, env: {} } : b;
            up[who] = await forkReady(path.join(__dirname, 'baselines', script), { ...baseEnv, ...env });
          }
        return await fn(up);
      } finally {
        for (const b of Object.values(up)) await stopChild(b.child);
      }
    };
    const webhookJob = (url, prefix, p, copies = 1) => ({
      url,
      kind: 'webhook',
      params: { path: p, secret: WEBHOOK_SECRET, prefix, account: acct.id, copies },
    });
    // What every scenario gets (scenarios/*.js).
    const c = {
      api,
      rss,
      db,
      token,
      tenant,
      acct,
      run,
      runSince,
      S,
      results,
      withBaselines,
      webhookJob,
      redis,
      serviceEnv,
      emulator,
      apiBase,
      connectedAccount,
    };

    // Order: the request scenarios on a small database, then 5's 1M routes, 10, the drain of 1-3, the thin events
    // (drained by their own worker replica so no later drain processes them), 9, and 11's 5M rows last (they would
    // slow every query after them). 15 runs on a cluster of its own, early, while the single database is small.
    if (ONLY.has(1)) await scenario1(c);
    if (ONLY.has(2)) await scenario2(c);
    if (ONLY.has(5)) await scenario5small(c);
    if (ONLY.has(3)) await scenario3(c);
    if (ONLY.has(4)) await scenario4(c);
    if (ONLY.has(13)) await scenario13(c);
    if (ONLY.has(14)) await scenario14(c);
    if (ONLY.has(15)) await scenario15(c);
    if (ONLY.has(5)) await scenario5large(c);
    if (ONLY.has(10)) await scenario10(c);
    if (ONLY.has(1) || ONLY.has(2) || ONLY.has(3) || ONLY.has(15)) await drainRequests(c);
    if (ONLY.has(12)) await scenario12(c);
    if (ONLY.has(9)) await scenario9(c);
    if (ONLY.has(11)) await scenario11(c);
    if (ONLY.has(7)) await scenario7(c);
    if (ONLY.has(8)) await scenario8(c);

    if (api.child.exitCode !== null || api.child.signalCode !== null)
      results.api_exited = api.child.signalCode || `code ${api.child.exitCode}`;
    results.rss_max_mb = Math.round(rss.max);
    results.memory_at_end = await memoryBreakdown(api.url);
    log(`API replica memory at the end: ${JSON.stringify(results.memory_at_end)}`);
    results.load_avg_at_end = loadAvg();
  } finally {
    if (rss) clearInterval(rss.timer);
    await db.end().catch(() => {});
    for (const fn of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(fn)
        .catch((e) => log(`cleanup: ${e.message}`));
    for (const ch of children.reverse()) await stopChild(ch);
    await database.drop().catch((e) => log(`cleanup: ${e.message}`));
  }
  results.total_s = Math.round((Date.now() - startedAt) / 1000);

  const table = render(results);
  results.table_markdown = table;
  fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(path.join(OUT, 'latest.md'), table);
  process.stdout.write(`\n${table}\n`);
  log(`results in bench-results/latest.json and bench-results/latest.md (${results.total_s} s in all)`);
}

main().catch(async (err) => {
  console.error(err);
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {}
  }
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});

/* eslint-disable */
// `npm run bench` (= `npm run build && node test/load/bench.js`): the service against bare baselines, same run,
// same machine. Every process that serves load runs on its own: the emulator, the service
// (dist/.../main.js, production build), each baseline, and autocannon. Results: bench-results/latest.json and
// bench-results/latest.md (the table BENCHMARKS.md keeps).
//
// Options (flags or env):
//   --only=1,2,3,4,5       scenarios to run (6, memory, is measured through whatever runs)
//   --duration=10          seconds per measured run (BENCH_DURATION); --warmup=2 (BENCH_WARMUP)
//   --profile              start the service with --cpu-prof (profiles in bench-results/profile/; summarise them with
//                          node test/load/profile-summary.js bench-results/profile/*.cpuprofile)
//   --no-baseline          service only (quick iterations while optimising)
//   LOG_LEVEL              the service's log level (default info, as production runs); logs go to bench-results/service.log
//   TEST_DATABASE_URL      PostgreSQL server to create a scratch database connect_bench_<ts> on (dropped at the end);
//                          unset: an embedded PostgreSQL in a temporary folder
//   TEST_REDIS_URL         Redis for the service's cache and scenario 4's baseline; unset: in-process cache, 4's baseline skipped
//   DATABASE_POOL_SIZE     pool size of the service and of the baselines alike (default 10)
//   BENCH_NODE_OPTIONS     NODE_OPTIONS for the service process only (e.g. heap limits)
//   OTEL_*                 passed to the service: OTEL_EXPORTER_OTLP_ENDPOINT set = tracing on
const { fork, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { freePort, startEmbeddedPostgres } = require('../setup/embedded-postgres');

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'bench-results');
const WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
const ALL_SCOPES =
  'accounts:read accounts:write payments:read payments:write events:read events:write webhooks:read webhooks:write';
const SETTLED = "('processed','ignored','unmatched')";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, env, dflt) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.split('=')[1] : (process.env[env] ?? dflt);
};
const ONLY = new Set(String(opt('only', 'BENCH_ONLY', '1,2,3,4,5')).split(',').map(Number));
const DURATION = Number(opt('duration', 'BENCH_DURATION', 10));
const WARMUP = Number(opt('warmup', 'BENCH_WARMUP', 2));
const PROFILE = flag('profile');
const BASELINES = !flag('no-baseline');
const LOG_LEVEL = process.env.LOG_LEVEL || 'info';
const POOL_SIZE = process.env.DATABASE_POOL_SIZE || '10';
const CONNECTIONS = 50;

const children = [];
const log = (msg) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------- infrastructure

async function startDatabase() {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let embedded = null;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres('connect-bench-pg');
    serverUrl = embedded.url;
    log(`TEST_DATABASE_URL not set: embedded PostgreSQL on port ${embedded.port}`);
  }
  const dbName = `connect_bench_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e) => log(`drop failed: ${e.message}`));
      await c.end();
      if (embedded) await embedded.stop();
    },
  };
}

/** fork()s a script that answers {ready, url} over IPC. */
function forkReady(script, env, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 60 s`)), 60_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m && m.ready) resolve({ child, url: m.url });
      else reject(new Error(`${script}: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startService(env) {
  const port = await freePort();
  const logFile = path.join(OUT, 'service.log');
  const fd = fs.openSync(logFile, 'w');
  const nodeArgs = PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'profile')}`, '--cpu-prof-interval=500']
    : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/apps/connect-service/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // The heap limit the Dockerfile and the k8s ConfigMap ship; BENCH_NODE_OPTIONS= (empty) runs without it.
      NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', fd, fd],
  });
  children.push(child);
  let exited = null;
  child.once('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited !== null) throw new Error(`the service exited with ${exited}; see ${logFile}`);
    try {
      const res = await fetch(`${url}/health/live`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`the service did not answer /health/live in 90 s; see ${logFile}`);
    await sleep(250);
  }
  return { child, url, logFile };
}

function stopChild(child, ms = 15_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Samples the service's VmRSS from /proc every 250 ms (scenario 6). */
function rssSampler(pid) {
  const s = { max: 0, last: 0, phaseMax: 0 };
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        s.last = Number(m[1]) / 1024;
        s.max = Math.max(s.max, s.last);
        s.phaseMax = Math.max(s.phaseMax, s.last);
      }
    } catch {}
  };
  read();
  s.timer = setInterval(read, 250);
  s.startPhase = () => {
    read();
    s.phaseMax = s.last;
  };
  return s;
}

/** One autocannon run in its own process. */
function loadRun(job) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'autocannon-runner.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.once('message', (m) => {
      child.kill();
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    child.once('exit', (code) => code && reject(new Error(`autocannon runner exited with ${code}`)));
    child.send({ connections: CONNECTIONS, ...job });
  });
}

/** utime + stime of a process in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends serving the bench database (pool connections persist through a run). */
let benchDb = null;
async function pgBackendPids() {
  if (!benchDb) return [];
  const { rows } = await benchDb.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.map((r) => r.pid);
}

/**
 * A short warm-up (JIT, pools, caches), then the measured run. `pid`: the server under test, whose CPU time per
 * request is reported with the PostgreSQL backends' (on a saturated 2-core machine the ratio follows CPU/request).
 */
async function measure(job, rss, pid) {
  // Webhook ids: <prefix>w... for the warm-up, <prefix>m... for the measured run.
  if (WARMUP > 0) await loadRun({ ...job, duration: WARMUP, params: { ...job.params, prefix: `${job.params.prefix || ''}w` } });
  if (rss) rss.startPhase();
  const pgPids = await pgBackendPids();
  const before = { own: pid ? cpuMs(pid) : 0, pg: pgPids.map(cpuMs) };
  const r = await loadRun({ ...job, duration: DURATION, params: { ...job.params, prefix: `${job.params.prefix || ''}m` } });
  if (pid && r.requests_total > 0) {
    r.cpu_ms_per_req = Number(((cpuMs(pid) - before.own) / r.requests_total).toFixed(2));
    const pgDelta = pgPids.reduce((sum, p, i) => sum + Math.max(0, cpuMs(p) - before.pg[i]), 0);
    r.pg_cpu_ms_per_req = Number((pgDelta / r.requests_total).toFixed(2));
  }
  if (rss) r.rss_mb = Math.round(rss.phaseMax);
  return r;
}

const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// ---------------------------------------------------------------------------------------------- scenarios

async function waitSettled(db, prefix, expected, timeoutMs = 300_000) {
  const started = Date.now();
  let last = null;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ${SETTLED})::int AS settled,
              count(*) FILTER (WHERE attempts <> 1 AND status IN ${SETTLED})::int AS reprocessed
         FROM stripe_webhook_events WHERE stripe_event_id LIKE $1`,
      [`${prefix}%`],
    );
    last = rows[0];
    if (last.settled >= last.total && last.total >= expected) break;
    if (Date.now() - started > timeoutMs) break;
    await sleep(200);
  }
  return { ...last, drain_ms: Date.now() - started };
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  if (PROFILE) fs.rmSync(path.join(OUT, 'profile'), { recursive: true, force: true });
  const machine = {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    ram_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_avg_at_start: loadAvg(),
  };
  log(`machine: ${machine.nproc} x ${machine.cpu}, ${machine.ram_gb} GB, node ${machine.node}, load ${machine.load_avg_at_start}`);

  const database = await startDatabase();
  const redisUrl = process.env.TEST_REDIS_URL || null;
  const db = new Client({ connectionString: database.url });
  const results = { machine, settings: { duration_s: DURATION, warmup_s: WARMUP, connections: CONNECTIONS, log_level: LOG_LEVEL, pool_size: Number(POOL_SIZE), redis: !!redisUrl, profile: PROFILE }, scenarios: {} };
  let service;
  let rss;
  try {
    const emulator = await forkReady(path.join(__dirname, 'emulator-child.js'), {});
    log(`emulator at ${emulator.url}`);
    const serviceEnv = {
      NODE_ENV: redisUrl ? 'production' : 'development',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: POOL_SIZE,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
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
    service = await startService(serviceEnv);
    rss = rssSampler(service.child.pid);
    log(`service at ${service.url} (pid ${service.child.pid}, NODE_ENV=${serviceEnv.NODE_ENV}, LOG_LEVEL=${LOG_LEVEL}${PROFILE ? ', --cpu-prof' : ''})`);
    await db.connect();
    benchDb = db;

    const baseEnv = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: POOL_SIZE, STRIPE_API_BASE: emulator.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
    const jwt = require('jsonwebtoken');
    const token = jwt.sign({ roles: ['platform'], scope: ALL_SCOPES }, JWT_SECRET, { algorithm: 'HS256', subject: 'bench-platform', expiresIn: '2h' });

    // A connected, active tenant whose account exists in the emulator (payments are direct charges on it).
    const Stripe = require('stripe');
    const api = new URL(emulator.url);
    const stripe = new Stripe('sk_test_bench', { host: api.hostname, port: Number(api.port), protocol: 'http', maxNetworkRetries: 0 });
    const acct = await stripe.accounts.create({ type: 'express', country: 'US' });
    await fetch(`${emulator.url}/_emulator/accounts/${acct.id}/verification`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'complete' }) });
    const tenant = 'tenant_bench';
    await db.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
       VALUES ($1, $2, 'active', 'account_link', 'express', true, true, true)`,
      [tenant, acct.id],
    );

    const run = Date.now().toString(36);
    const S = results.scenarios;

    // 1. Webhook intake, unique events, then every accepted event must be processed.
    if (ONLY.has(1)) {
      log(`scenario 1: webhook intake, unique signed events (load ${loadAvg()})`);
      const prefix = `evt_s1_${run}_`;
      const webhookJob = (url, pfx, p) => ({ url, kind: 'webhook', params: { path: p, secret: WEBHOOK_SECRET, prefix: pfx, account: acct.id, copies: 1 } });
      const svcJob = webhookJob(service.url, prefix, '/connect/webhooks');
      let warmOk = 0;
      if (WARMUP > 0) warmOk = (await loadRun({ ...svcJob, duration: WARMUP, params: { ...svcJob.params } })).stats.ok;
      rss.startPhase();
      const svcProcessedBefore = await waitSettledCount(db, prefix);
      const intakeStart = Date.now();
      const cpuBefore = cpuMs(service.child.pid);
      const svc = await loadRun({ ...svcJob, duration: DURATION });
      // Includes the workers processing during the intake (they share the process).
      svc.cpu_ms_per_req = Number(((cpuMs(service.child.pid) - cpuBefore) / svc.requests_total).toFixed(2));
      svc.rss_mb = Math.round(rss.phaseMax);
      const intakeMs = Date.now() - intakeStart;
      const atEnd = await waitSettledCount(db, prefix);
      const accepted = warmOk + svc.stats.ok;
      const check = await waitSettled(db, prefix, accepted);
      svc.check = {
        accepted,
        stored: check.total,
        processed: check.settled,
        // Requests still in flight when autocannon stops may commit without their answer being counted: every
        // stored event must be processed, and no 2xx answer may lack its row.
        ok: check.settled === check.total && check.total >= accepted,
        backlog_at_end_of_intake: atEnd.total - atEnd.settled,
        drain_after_intake_ms: check.drain_ms,
        // Processing rate over the measured window and the drain that followed it.
        processing_events_per_s: Math.round((check.settled - svcProcessedBefore.settled) / ((intakeMs + check.drain_ms) / 1000)),
      };
      let base = null;
      if (BASELINES) {
        const b = await forkReady(path.join(__dirname, 'baselines/webhook-baseline.js'), baseEnv);
        base = await measure(webhookJob(b.url, `evt_b1_${run}_`, '/webhooks'), null, b.child.pid);
        await stopChild(b.child);
      }
      S['1'] = { name: 'Webhook intake, unique events', service: svc, baseline: base };
      log(`  service ${fmt(svc)}; processed ${svc.check.processed}/${accepted}, ${svc.check.processing_events_per_s} ev/s`);
      if (base) log(`  baseline ${fmt(base)}`);
    }

    // 2. Duplicate storm: every event 5 times at once; each stored and processed once.
    if (ONLY.has(2)) {
      log(`scenario 2: duplicate storm, 5 copies of each event (load ${loadAvg()})`);
      const prefix = `evt_s2_${run}_`;
      const svc = await measure({ url: service.url, kind: 'webhook', params: { path: '/connect/webhooks', secret: WEBHOOK_SECRET, prefix, account: acct.id, copies: 5 } }, rss, service.child.pid);
      const check = await waitSettled(db, prefix, 0);
      const measured = await waitSettledCount(db, `${prefix}m`);
      // Answers saying "new" must equal the rows stored: one per distinct event, whatever the copies did.
      svc.check = {
        stored: check.total,
        processed: check.settled,
        processed_more_than_once: check.reprocessed,
        answered_new: svc.stats.notDuplicate,
        answered_duplicate: svc.stats.duplicate,
        // One row per distinct event (the unique key) and each processed exactly once (attempts = 1); the "new"
        // answers match the rows but for requests cut off in flight when the run stopped (at most one per connection).
        ok:
          check.settled === check.total &&
          check.reprocessed === 0 &&
          svc.stats.notDuplicate <= measured.total &&
          measured.total - svc.stats.notDuplicate <= CONNECTIONS,
      };
      let base = null;
      if (BASELINES) {
        const b = await forkReady(path.join(__dirname, 'baselines/webhook-baseline.js'), baseEnv);
        base = await measure({ url: b.url, kind: 'webhook', params: { path: '/webhooks', secret: WEBHOOK_SECRET, prefix: `evt_b2_${run}_`, account: acct.id, copies: 5 } }, null, b.child.pid);
        await stopChild(b.child);
      }
      S['2'] = { name: 'Duplicate storm (5x each)', service: svc, baseline: base };
      log(`  service ${fmt(svc)}; check ${JSON.stringify(svc.check)}`);
      if (base) log(`  baseline ${fmt(base)}`);
    }

    // 5a. Read paths on an almost empty database (100 tenants x 10 routes).
    let scale = null;
    if (ONLY.has(5)) {
      log(`scenario 5 (small database): GET /connect/payments/:id and a filtered list (load ${loadAvg()})`);
      await seedAccounts(db, 'bs_', 100, 10);
      scale = { small: await readScenario(db, service.url, token, 'bs_', rss) };
    }

    // 3. Payment creation, JWT + unique Idempotency-Key, through to the emulator.
    if (ONLY.has(3)) {
      log(`scenario 3: payment creation (load ${loadAvg()})`);
      const svc = await measure({ url: service.url, kind: 'payment', params: { path: '/connect/payments', token, tenant } }, rss, service.child.pid);
      let base = null;
      if (BASELINES) {
        const b = await forkReady(path.join(__dirname, 'baselines/payment-baseline.js'), baseEnv);
        base = await measure({ url: b.url, kind: 'payment', params: { path: '/payments', tenant, stripeAccount: acct.id } }, null, b.child.pid);
        await stopChild(b.child);
      }
      S['3'] = { name: 'Payment creation (JWT, Idempotency-Key, emulator)', service: svc, baseline: base };
      log(`  service ${fmt(svc)}`);
      if (base) log(`  baseline ${fmt(base)}`);
    }

    // 4. Warm-cache account read.
    if (ONLY.has(4)) {
      log(`scenario 4: GET /connect/accounts/:tenantId, warm cache (load ${loadAvg()})`);
      const first = await fetch(`${service.url}/connect/accounts/${tenant}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await first.text();
      if (!first.ok) throw new Error(`GET /connect/accounts/${tenant}: ${first.status} ${body}`);
      const svc = await measure({ url: service.url, kind: 'get', params: { paths: [`/connect/accounts/${tenant}`], token } }, rss, service.child.pid);
      let base = null;
      let skipped = null;
      if (BASELINES && redisUrl) {
        const Redis = require('ioredis');
        const r = new Redis(redisUrl);
        await r.set(`bench:account:${tenant}`, body, 'EX', 600);
        await r.quit();
        const b = await forkReady(path.join(__dirname, 'baselines/redis-baseline.js'), baseEnv);
        base = await measure({ url: b.url, kind: 'get', params: { paths: [`/accounts/${tenant}`] } }, null, b.child.pid);
        await stopChild(b.child);
      } else if (!redisUrl) skipped = 'TEST_REDIS_URL not set: the service used its in-process cache and there is no Redis to compare with';
      S['4'] = { name: 'Account read, warm cache', service: svc, baseline: base, skipped };
      log(`  service ${fmt(svc)}`);
      if (base) log(`  baseline ${fmt(base)}`);
      if (skipped) log(`  baseline skipped: ${skipped}`);
    }

    // 5b. The same reads with 100,000 accounts and 1,000,000 payment routes loaded.
    if (ONLY.has(5)) {
      log('scenario 5: loading 100,000 accounts and 1,000,000 payment routes');
      const t0 = Date.now();
      await seedAccounts(db, 'bl_', 100_000, 10);
      // Steady state, not the minutes right after a bulk load: without this, autovacuum of the new rows and the
      // checkpoint flushing them run during the measurement and make the p99 noise (seen: 0.5x to 1.6x).
      await db.query('VACUUM (ANALYZE) connect_accounts, payment_routes');
      await db.query('CHECKPOINT');
      scale.load_s = Math.round((Date.now() - t0) / 1000);
      log(`  loaded in ${scale.load_s} s (load ${loadAvg()})`);
      scale.large = await readScenario(db, service.url, token, 'bl_', rss);
      S['5'] = { name: 'Scale: reads at 1M routes vs almost empty', ...scale };
    }

    results.rss_max_mb = Math.round(rss.max);
    results.memory_at_end = await memoryBreakdown(service.url);
    log(`service memory at the end: ${JSON.stringify(results.memory_at_end)}`);
    results.load_avg_at_end = loadAvg();
  } finally {
    if (rss) clearInterval(rss.timer);
    await db.end().catch(() => {});
    for (const c of children.reverse()) await stopChild(c);
    await database.drop().catch((e) => log(`cleanup: ${e.message}`));
  }

  const table = render(results);
  results.table_markdown = table;
  fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(path.join(OUT, 'latest.md'), table);
  process.stdout.write(`\n${table}\n`);
  log('results in bench-results/latest.json and bench-results/latest.md');
}

/** RSS versus V8 heap at the end (prom-client's default metrics): tells a leak from a heap that has not shrunk. */
async function memoryBreakdown(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const pick = (name) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
      return m ? Math.round(Number(m[1]) / 2 ** 20) : null;
    };
    return {
      rss_mb: pick('process_resident_memory_bytes'),
      heap_total_mb: pick('nodejs_heap_size_total_bytes'),
      heap_used_mb: pick('nodejs_heap_size_used_bytes'),
      external_mb: pick('nodejs_external_memory_bytes'),
    };
  } catch (e) {
    return { error: e.message };
  }
}

async function waitSettledCount(db, prefix) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ${SETTLED})::int AS settled FROM stripe_webhook_events WHERE stripe_event_id LIKE $1`,
    [`${prefix}%`],
  );
  return rows[0];
}

/** `tenants` active accounts named <prefix><n>, each with `perTenant` payment routes, in two set-based INSERTs. */
async function seedAccounts(db, prefix, tenants, perTenant) {
  await db.query(
    `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
     SELECT $1 || i, 'acct_' || $1 || i, 'active', 'account_link', 'express', true, true, true FROM generate_series(1, $2::int) i`,
    [prefix, tenants],
  );
  await db.query(
    `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
       stripe_payment_intent_id, stripe_idempotency_key, metadata, created_at)
     SELECT $1 || t, 'acct_' || $1 || t, 'payment',
            (ARRAY['pending','completed','completed','failed']::payment_route_status[])[1 + i % 4],
            'direct', 1000 + i % 9000, 59, 'usd', 'pi_' || $1 || i, 'route:' || $1 || i || ':create', '{}'::jsonb,
            now() - (i || ' seconds')::interval
       FROM generate_series(1, $2::int * $3::int) i, LATERAL (SELECT 1 + i % $2::int AS t) tt`,
    [prefix, tenants, perTenant],
  );
}

/** p99 of GET /connect/payments/:id over 1,000 random routes, then of a filtered list page over random tenants. */
async function readScenario(db, url, token, prefix, rss) {
  const { rows } = await db.query(
    `SELECT id, tenant_id FROM payment_routes WHERE tenant_id LIKE $1 || '%' ORDER BY random() LIMIT 1000`,
    [prefix],
  );
  const byId = await measure({ url, kind: 'get', connections: 10, params: { paths: rows.map((r) => `/connect/payments/${r.id}`), token } }, rss);
  const list = await measure(
    { url, kind: 'get', connections: 10, params: { paths: rows.map((r) => `/connect/payments?tenant_id=${r.tenant_id}&status=completed&limit=20`), token } },
    rss,
  );
  log(`  [${prefix}] by id ${fmt(byId)}`);
  log(`  [${prefix}] list ${fmt(list)}`);
  return { by_id: byId, list };
}

function fmt(r) {
  return (
    `${Math.round(r.req_per_s)} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, non-2xx ${r.non_2xx}, errors ${r.errors}` +
    `${r.rss_mb ? `, RSS ${r.rss_mb} MB` : ''}${r.cpu_ms_per_req !== undefined ? `, CPU ${r.cpu_ms_per_req} ms/req (+ PG ${r.pg_cpu_ms_per_req ?? '?'})` : ''}`
  );
}

// ---------------------------------------------------------------------------------------------- report

function render(res) {
  const S = res.scenarios;
  const lines = [];
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : 'n/a');
  const pf = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
  lines.push(
    `Machine: ${res.machine.nproc} x ${res.machine.cpu}, ${res.machine.ram_gb} GB RAM, Node ${res.machine.node}; ` +
      `${res.machine.date.slice(0, 16).replace('T', ' ')} UTC; load average at start ${res.machine.load_avg_at_start}, at end ${res.load_avg_at_end}.`,
  );
  lines.push(
    `Settings: ${res.settings.duration_s} s per run after a ${res.settings.warmup_s} s warm-up, ${res.settings.connections} connections ` +
      `(scenario 5: 10), service LOG_LEVEL=${res.settings.log_level}, DATABASE_POOL_SIZE=${res.settings.pool_size}, ` +
      `Redis ${res.settings.redis ? 'on' : 'off'}${res.settings.profile ? ', CPU profiler ON (slower)' : ''}.`,
  );
  lines.push('');
  lines.push('| # | scenario | who | req/s | p50 ms | p99 ms | non-2xx | RSS MB | CPU ms/req (process + PG) | ratio (svc/base) | target | result |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---|');
  const cpu = (r) =>
    r && r.cpu_ms_per_req !== undefined ? `${r.cpu_ms_per_req}${r.pg_cpu_ms_per_req !== undefined ? ` + ${r.pg_cpu_ms_per_req}` : ''}` : '-';
  const row = (n, name, who, r, ratioText, target, result) =>
    lines.push(
      `| ${n} | ${name} | ${who} | ${r ? Math.round(r.req_per_s) : '-'} | ${r ? r.p50_ms : '-'} | ${r ? r.p99_ms : '-'} | ` +
        `${r ? r.non_2xx + r.errors : '-'} | ${r && r.rss_mb ? r.rss_mb : '-'} | ${cpu(r)} | ${ratioText} | ${target} | ${result} |`,
    );
  if (S['1']) {
    const { service: s, baseline: b } = S['1'];
    const thr = b ? s.req_per_s / b.req_per_s : null;
    const p99 = b ? s.p99_ms / Math.max(b.p99_ms, 1) : null;
    const ok = b ? thr >= 0.75 && p99 <= 2 && s.non_2xx + s.errors === 0 && s.check.ok : null;
    row(1, S['1'].name, 'service', s, b ? `${thr.toFixed(2)} (p99 ${p99.toFixed(2)}x)` : 'n/a', '>=0.75, p99 <=2x, 0 non-2xx, all processed', pf(ok));
    row('', '', 'baseline', b, '', '', '');
    lines.push(
      `|  | processed after intake | service | ${s.check.processing_events_per_s} ev/s | | | | | | ${s.check.processed}/${s.check.stored} stored processed (${s.check.accepted} 2xx answers); backlog ${s.check.backlog_at_end_of_intake} at end of intake, drained in ${(s.check.drain_after_intake_ms / 1000).toFixed(1)} s | every accepted event processed | ${pf(s.check.ok)} |`,
    );
  }
  if (S['2']) {
    const { service: s, baseline: b } = S['2'];
    row(2, S['2'].name, 'service', s, ratio(s.req_per_s, b && b.req_per_s), `each processed once (${s.check.stored} events, ${s.check.answered_new} "new" answers, ${s.check.processed_more_than_once} reprocessed)`, pf(s.check.ok && s.non_2xx + s.errors === 0));
    row('', '', 'baseline', b, '', '', '');
  }
  if (S['3']) {
    const { service: s, baseline: b } = S['3'];
    const r = b ? s.req_per_s / b.req_per_s : null;
    row(3, S['3'].name, 'service', s, ratio(s.req_per_s, b && b.req_per_s), '>=0.6', pf(b ? r >= 0.6 && s.non_2xx + s.errors === 0 : null));
    row('', '', 'baseline', b, '', '', '');
  }
  if (S['4']) {
    const { service: s, baseline: b, skipped } = S['4'];
    const r = b ? s.req_per_s / b.req_per_s : null;
    row(4, S['4'].name, 'service', s, ratio(s.req_per_s, b && b.req_per_s), '>=0.8', skipped ? `skipped: ${skipped}` : pf(b ? r >= 0.8 && s.non_2xx + s.errors === 0 : null));
    row('', '', 'baseline', b, '', '', '');
  }
  if (S['5']) {
    const x = S['5'];
    for (const [key, label] of [['by_id', 'GET /connect/payments/:id'], ['list', 'filtered list page']]) {
      const r = x.large[key].p99_ms / Math.max(x.small[key].p99_ms, 1);
      row(5, `${label}, 1M routes`, 'service', x.large[key], `p99 ${r.toFixed(2)}x of small`, 'p99 <=1.5x', pf(r <= 1.5 && x.large[key].non_2xx === 0));
      row('', `${label}, ~1k routes`, 'service', x.small[key], '', '', '');
    }
  }
  lines.push(`| 6 | Memory: service RSS max through the run | service | | | | | ${res.rss_max_mb} | | ${res.memory_at_end && res.memory_at_end.rss_mb ? `at the end: RSS ${res.memory_at_end.rss_mb}, heap ${res.memory_at_end.heap_used_mb}/${res.memory_at_end.heap_total_mb} MB used/total` : ''} | < 300 MB | ${pf(res.rss_max_mb < 300)} |`);
  return lines.join('\n') + '\n';
}

main().catch(async (err) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});

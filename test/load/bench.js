/* eslint-disable */
// `npm run bench` (= `npm run build && node test/load/bench.js`): the service against baselines, same run, same
// machine. Every process that serves load runs on its own: the emulator, the service (dist/.../main.js, production
// build) as an API/intake replica with WORKERS_ENABLED=false, a worker replica started only to drain queued work,
// each baseline, and autocannon. Results: bench-results/latest.json and bench-results/latest.md (the table
// BENCHMARKS.md keeps).
//
// Options (flags or env):
//   --only=1,2,3,4,5,9,10,11  scenarios to run (6, memory, is measured through whatever runs); 7 (busy platform) and
//                          8 (signed deliveries, production rate limits) run only when named: --only=7,8
//   --rounds=3             alternating rounds (service, fair, bare, service, ...) of scenarios 1-4; medians reported
//   --duration=10          seconds per measured run (BENCH_DURATION); --warmup=2 (BENCH_WARMUP)
//   --burst-duration=60    seconds of scenario 9's intake burst (BENCH_BURST_DURATION)
//   --inbox-rows=5000000   rows bulk-loaded into the webhook inbox for scenario 11 (BENCH_INBOX_ROWS)
//   --purge-backlog-days=1 days of rows past the retention cutoff still holding their payload in scenario 11 (1: what
//                          the daily job finds in steady state; 30: a first purge of everything past the cutoff)
//   --tenants=10000        active tenants of scenario 10 (BENCH_TENANTS)
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
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
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
const ONLY = new Set(String(opt('only', 'BENCH_ONLY', '1,2,3,4,5,9,10,11')).split(',').map(Number));
const ROUNDS = Math.max(1, Number(opt('rounds', 'BENCH_ROUNDS', 3)));
const DURATION = Number(opt('duration', 'BENCH_DURATION', 10));
const WARMUP = Number(opt('warmup', 'BENCH_WARMUP', 2));
const BURST_DURATION = Number(opt('burst-duration', 'BENCH_BURST_DURATION', 60));
const BUSY_DURATION = Number(opt('busy-duration', 'BENCH_BUSY_DURATION', 60));
const INBOX_ROWS = Number(opt('inbox-rows', 'BENCH_INBOX_ROWS', 5_000_000));
const PURGE_BACKLOG_DAYS = Number(opt('purge-backlog-days', 'BENCH_PURGE_BACKLOG_DAYS', 1));
const TENANTS = Number(opt('tenants', 'BENCH_TENANTS', 10_000));
const PROFILE = flag('profile');
const BASELINES = !flag('no-baseline');
const LOG_LEVEL = process.env.LOG_LEVEL || 'info';
const POOL_SIZE = process.env.DATABASE_POOL_SIZE || '10';
const CONNECTIONS = 50;
// Scenario 9's connected accounts: each in the emulator and in connect_accounts, its own tenant.
const BURST_ACCOUNTS = 200;
// The service's default REDIS_TTL: a cached account lives this long after its synced_at (scenario 10).
const CACHE_TTL_S = Number(process.env.REDIS_TTL || 60);
const TENANT_SYNC_AHEAD_S = 300;
// The service's default RETENTION_WEBHOOK_PAYLOAD_DAYS (libs/config); scenario 11 places rows around it.
const RETENTION_DAYS = Number(process.env.RETENTION_WEBHOOK_PAYLOAD_DAYS || 30);
// A drain gives up when nothing settles for this long (a stuck queue must not hang the bench).
const DRAIN_STALL_MS = 90_000;

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
    embedded: !!embedded,
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e) => log(`drop failed: ${e.message}`));
      await c.end();
      if (embedded) await embedded.stop();
    },
  };
}

function onPath(binary) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, binary), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/**
 * TEST_REDIS_URL, else a redis-server of our own on a free port (no persistence, as the fault suite starts one), so
 * a fresh clone prints every row; only without the binary does the service fall back to its in-process cache.
 */
async function startRedis() {
  if (process.env.TEST_REDIS_URL) return { url: process.env.TEST_REDIS_URL, source: 'TEST_REDIS_URL' };
  if (!onPath('redis-server')) {
    return { url: null, source: 'none', reason: 'TEST_REDIS_URL not set and no redis-server on PATH: the service used its in-process cache and there is no Redis to compare with' };
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING in 10 s');
    await sleep(50);
  }
  log(`TEST_REDIS_URL not set: redis-server on port ${port}`);
  return { url: `redis://127.0.0.1:${port}`, source: 'redis-server started by the bench' };
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

async function startService(env, fixedPort, logName = 'service.log', profile = false) {
  const port = fixedPort || (await freePort());
  const logFile = path.join(OUT, logName);
  const fd = fs.openSync(logFile, 'w');
  const nodeArgs = profile
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
  child.once('exit', (code, signal) => (exited = code ?? signal));
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

/** Samples a service process's VmRSS from /proc every 250 ms (scenario 6). */
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

/**
 * One autocannon run in a load-generator process of its own (never the bench's or a server's event loop). Idle
 * generators are reused, which saves a node start per run; runs at the same moment (scenario 7) get one each.
 */
const idleRunners = [];
function loadRun(job) {
  const child = idleRunners.pop() || fork(path.join(__dirname, 'autocannon-runner.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (!children.includes(child)) children.push(child);
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m) => {
      done();
      idleRunners.push(child);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    };
    const onExit = (code) => {
      done();
      reject(new Error(`autocannon runner exited with ${code}`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
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

/** CPU ms of every PostgreSQL backend serving the bench database now, by pid. */
let benchDb = null;
async function pgCpuSnapshot() {
  if (!benchDb) return new Map();
  const { rows } = await benchDb.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

/** CPU the bench database's backends spent since `before`, counting backends opened meanwhile in full. */
async function pgCpuSince(before) {
  const now = await pgCpuSnapshot();
  let sum = 0;
  for (const [pid, ms] of now) sum += Math.max(0, ms - (before.get(pid) ?? 0));
  return sum;
}

/**
 * A short warm-up (JIT, pools, caches), then the measured run. `pid`: the server under test, whose CPU time per
 * request is reported with the PostgreSQL backends' (on a saturated 2-core machine the ratio follows CPU/request).
 */
async function measure(job, rss, pid) {
  // Webhook ids: <prefix>w... for the warm-up, <prefix>m... for the measured run.
  let warmupOk = 0;
  if (WARMUP > 0) warmupOk = (await loadRun({ ...job, duration: WARMUP, params: { ...job.params, prefix: `${job.params.prefix || ''}w` } })).stats.ok;
  if (rss) rss.startPhase();
  const pgBefore = await pgCpuSnapshot();
  const ownBefore = pid ? cpuMs(pid) : 0;
  const r = await loadRun({ ...job, duration: DURATION, params: { ...job.params, prefix: `${job.params.prefix || ''}m` } });
  r.warmup_ok = warmupOk;
  if (pid && r.requests_total > 0) {
    r.cpu_ms_per_req = Number(((cpuMs(pid) - ownBefore) / r.requests_total).toFixed(2));
    r.pg_cpu_ms_per_req = Number(((await pgCpuSince(pgBefore)) / r.requests_total).toFixed(2));
  }
  if (rss) r.rss_mb = Math.round(rss.phaseMax);
  return r;
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Medians of a side's rounds (req/s, p50, p99, CPU), sums of its counts, the rounds themselves kept. */
function summarize(runs) {
  const med = (k) => median(runs.map((r) => r[k]));
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  return {
    req_per_s: med('req_per_s'),
    p50_ms: med('p50_ms'),
    p99_ms: med('p99_ms'),
    cpu_ms_per_req: med('cpu_ms_per_req'),
    pg_cpu_ms_per_req: med('pg_cpu_ms_per_req'),
    non_2xx: sum((r) => r.non_2xx),
    errors: sum((r) => r.errors),
    requests_total: sum((r) => r.requests_total),
    accepted: sum((r) => r.warmup_ok + r.stats.ok),
    rss_mb: Math.max(0, ...runs.map((r) => r.rss_mb || 0)) || undefined,
    rounds: runs,
  };
}

/**
 * ROUNDS alternating rounds: service, fair, bare, service, fair, bare, ... (each side a warm-up and a measured run),
 * so a noisy neighbour hurts every side alike; the servers stay up throughout. `sides`: {who, pid, rss, job(round)}.
 */
async function rounds(sides) {
  const live = sides.filter(Boolean);
  const runs = Object.fromEntries(live.map((s) => [s.who, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of live) {
      const res = await measure(s.job(r), s.rss, s.pid);
      runs[s.who].push(res);
      log(`  round ${r + 1}/${ROUNDS} ${s.who}: ${fmt(res)}`);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([who, rs]) => [who, summarize(rs)]));
}

const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// ---------------------------------------------------------------------------------------------- queued work

/** Rows of the inbox whose event id matches one of `patterns` (LIKE), received at or after `since`. */
async function inboxCounts(db, patterns, since) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ${SETTLED})::int AS settled,
            count(*) FILTER (WHERE attempts <> 1 AND status IN ${SETTLED})::int AS reprocessed,
            min(processed_at) AS first_processed, max(processed_at) AS last_processed
       FROM stripe_webhook_events WHERE received_at >= $2 AND stripe_event_id LIKE ANY($1::text[])`,
    [patterns, since],
  );
  return rows[0];
}

/** Jobs of the service's queues still to run now (the baselines' queue has no worker, by design). */
async function queueBacklog(db) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pgboss.job
      WHERE name NOT LIKE 'bench-baseline%' AND state IN ('created', 'retry', 'active') AND start_after <= now() + interval '30 seconds'`,
  );
  return rows[0].n;
}

/**
 * The scale-out layout's second half: a worker replica (WORKERS_ENABLED=true, same database, Redis and emulator, no
 * request load) is started, drains the queued work until every matching inbox row is settled and the service's queues
 * are empty, and is stopped. Returns timings, counts and the worker's CPU and RSS.
 */
async function drainWithWorker(label, serviceEnv, db, patterns, since) {
  log(`drain (${label}): starting a worker replica (load ${loadAvg()})`);
  const spawnedAt = Date.now();
  const pgBefore = await pgCpuSnapshot();
  const worker = await startService({ ...serviceEnv, WORKERS_ENABLED: 'true' }, null, `service-worker-${label}.log`);
  const wrss = rssSampler(worker.child.pid);
  const readyAt = Date.now();
  let last = null;
  let settledAt = null;
  let progressAt = Date.now();
  let lastSettled = -1;
  let backlog = null;
  let exited = null;
  for (;;) {
    // A replica stopped from outside (a signal, a crash) ends the drain now rather than after the stall timeout.
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) exited = worker.child.signalCode || `code ${worker.child.exitCode}`;
    last = await inboxCounts(db, patterns, since);
    if (exited) break;
    if (last.settled !== lastSettled) {
      lastSettled = last.settled;
      progressAt = Date.now();
    }
    if (settledAt === null && last.settled >= last.total) settledAt = Date.now();
    if (settledAt !== null) {
      backlog = await queueBacklog(db);
      if (backlog === 0) break;
      if (Date.now() - settledAt > DRAIN_STALL_MS) break;
    } else if (Date.now() - progressAt > DRAIN_STALL_MS) break;
    await sleep(500);
  }
  const queuesEmptyAt = Date.now();
  const workerCpu = cpuMs(worker.child.pid);
  const pgCpu = await pgCpuSince(pgBefore);
  const unhandled = await metricSum(worker.url, 'connect_process_unhandled_errors_total').catch(() => null);
  await stopChild(worker.child);
  clearInterval(wrss.timer);
  const spanS =
    last.first_processed && last.last_processed
      ? Math.max(0.001, (new Date(last.last_processed) - new Date(last.first_processed)) / 1000)
      : null;
  const out = {
    stored: last.total,
    settled: last.settled,
    reprocessed: last.reprocessed,
    all_settled: last.settled >= last.total,
    boot_s: Number(((readyAt - spawnedAt) / 1000).toFixed(1)),
    // From the worker's spawn (its boot included) until the last matching row settled.
    wall_s: Number((((settledAt ?? queuesEmptyAt) - spawnedAt) / 1000).toFixed(1)),
    // First to last processed_at of the matching rows: the worker's processing time, boot excluded.
    processing_s: spanS === null ? null : Number(spanS.toFixed(1)),
    events_per_s: spanS ? Math.round(last.settled / spanS) : null,
    queues_empty_after_s: Number(((queuesEmptyAt - spawnedAt) / 1000).toFixed(1)),
    jobs_left: backlog,
    worker_cpu_ms_per_event: last.settled ? Number((workerCpu / last.settled).toFixed(2)) : null,
    pg_cpu_ms_per_event: last.settled ? Number((pgCpu / last.settled).toFixed(2)) : null,
    worker_rss_max_mb: Math.round(wrss.max),
    worker_unhandled_errors: unhandled,
    ...(exited ? { worker_exited: exited } : {}),
  };
  log(`  drained: ${JSON.stringify(out)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------- main

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
  log(`machine: ${machine.nproc} x ${machine.cpu}, ${machine.ram_gb} GB, node ${machine.node}, load ${machine.load_avg_at_start}`);

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
    log(`API replica at ${api.url} (pid ${api.child.pid}, WORKERS_ENABLED=false, NODE_ENV=${serviceEnv.NODE_ENV}, LOG_LEVEL=${LOG_LEVEL}${PROFILE ? ', --cpu-prof' : ''})`);
    await db.connect();
    benchDb = db;

    const baseEnv = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: POOL_SIZE, STRIPE_API_BASE: emulator.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, JWT_SECRET, ...(redis.url ? { REDIS_URL: redis.url } : {}) };
    const jwt = require('jsonwebtoken');
    const token = jwt.sign({ roles: ['platform'], scope: ALL_SCOPES }, JWT_SECRET, { algorithm: 'HS256', subject: 'bench-platform', expiresIn: '2h' });

    // A connected, active tenant whose account exists in the emulator (payments are direct charges on it).
    const Stripe = require('stripe');
    const apiBase = new URL(emulator.url);
    const stripe = new Stripe('sk_test_bench', { host: apiBase.hostname, port: Number(apiBase.port), protocol: 'http', maxNetworkRetries: 0 });
    const connectedAccount = async () => {
      const a = await stripe.accounts.create({ type: 'express', country: 'US' });
      await fetch(`${emulator.url}/_emulator/accounts/${a.id}/verification`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'complete' }) });
      return a;
    };
    const acct = await connectedAccount();
    const tenant = 'tenant_bench';
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
        if (BASELINES) for (const [who, script] of Object.entries(scripts)) if (script) up[who] = await forkReady(path.join(__dirname, 'baselines', script), baseEnv);
        return await fn(up);
      } finally {
        for (const b of Object.values(up)) await stopChild(b.child);
      }
    };
    const webhookJob = (url, prefix, p, copies = 1) => ({ url, kind: 'webhook', params: { path: p, secret: WEBHOOK_SECRET, prefix, account: acct.id, copies } });

    // 1. Webhook intake, unique events; every accepted event is processed by the worker replica afterwards.
    if (ONLY.has(1)) {
      log(`scenario 1: webhook intake, unique signed events, ${ROUNDS} rounds (load ${loadAvg()})`);
      const prefix = `evt_s1_${run}_`;
      // Baseline event ids start bevt_: no service check counting evt_ rows ever sees them.
      const res = await withBaselines({ fair: 'fair-intake-baseline.js', bare: 'webhook-baseline.js' }, (b) =>
        rounds([
          { who: 'service', pid: api.child.pid, rss, job: (r) => webhookJob(api.url, `${prefix}r${r}_`, '/connect/webhooks') },
          b.fair && { who: 'fair', pid: b.fair.child.pid, job: (r) => webhookJob(b.fair.url, `bevt_f1_${run}_r${r}_`, '/webhooks') },
          b.bare && { who: 'bare', pid: b.bare.child.pid, job: (r) => webhookJob(b.bare.url, `bevt_b1_${run}_r${r}_`, '/webhooks') },
        ]),
      );
      S['1'] = { name: 'Webhook intake, unique events', prefix, ...res };
    }

    // 2. Duplicate storm: every event 5 times at once; each stored and processed once.
    if (ONLY.has(2)) {
      log(`scenario 2: duplicate storm, 5 copies of each event, ${ROUNDS} rounds (load ${loadAvg()})`);
      const prefix = `evt_s2_${run}_`;
      const res = await withBaselines({ fair: 'fair-intake-baseline.js', bare: 'webhook-baseline.js' }, (b) =>
        rounds([
          { who: 'service', pid: api.child.pid, rss, job: (r) => webhookJob(api.url, `${prefix}r${r}_`, '/connect/webhooks', 5) },
          b.fair && { who: 'fair', pid: b.fair.child.pid, job: (r) => webhookJob(b.fair.url, `bevt_f2_${run}_r${r}_`, '/webhooks', 5) },
          b.bare && { who: 'bare', pid: b.bare.child.pid, job: (r) => webhookJob(b.bare.url, `bevt_b2_${run}_r${r}_`, '/webhooks', 5) },
        ]),
      );
      // Answers saying "new" must equal the rows stored: one per distinct event, whatever the copies did (but for
      // requests cut off in flight when a run stopped, at most one per connection).
      const perRound = [];
      for (const [r, x] of res.service.rounds.entries()) {
        const rows = (await inboxCounts(db, [`${prefix}r${r}_m%`], runSince)).total;
        perRound.push({ rows, answered_new: x.stats.notDuplicate, answered_duplicate: x.stats.duplicate, ok: x.stats.notDuplicate <= rows && rows - x.stats.notDuplicate <= CONNECTIONS });
      }
      S['2'] = { name: 'Duplicate storm (5x each)', prefix, ...res, answers: perRound };
    }

    // 5a. Read paths on an almost empty database (100 tenants x 10 routes).
    let scale = null;
    if (ONLY.has(5)) {
      log(`scenario 5 (small database): GET /connect/payments/:id and a filtered list (load ${loadAvg()})`);
      await seedAccounts(db, 'bs_', 100, 10);
      scale = { small: await readScenario(db, api.url, token, 'bs_', rss, api.child.pid) };
    }

    // 3. Payment creation, JWT + unique Idempotency-Key, through to the emulator.
    if (ONLY.has(3)) {
      log(`scenario 3: payment creation, ${ROUNDS} rounds (load ${loadAvg()})`);
      const res = await withBaselines({ fair: 'fair-payment-baseline.js', bare: 'payment-baseline.js' }, (b) =>
        rounds([
          { who: 'service', pid: api.child.pid, rss, job: () => ({ url: api.url, kind: 'payment', params: { path: '/connect/payments', token, tenant } }) },
          b.fair && { who: 'fair', pid: b.fair.child.pid, job: () => ({ url: b.fair.url, kind: 'payment', params: { path: '/payments', tenant, stripeAccount: acct.id, token } }) },
          b.bare && { who: 'bare', pid: b.bare.child.pid, job: () => ({ url: b.bare.url, kind: 'payment', params: { path: '/payments', tenant, stripeAccount: acct.id } }) },
        ]),
      );
      S['3'] = { name: 'Payment creation (JWT, Idempotency-Key, emulator)', ...res };
    }

    // 4. Warm-cache account read.
    if (ONLY.has(4)) {
      log(`scenario 4: GET /connect/accounts/:tenantId, warm cache, ${ROUNDS} rounds (load ${loadAvg()})`);
      const first = await fetch(`${api.url}/connect/accounts/${tenant}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await first.text();
      if (!first.ok) throw new Error(`GET /connect/accounts/${tenant}: ${first.status} ${body}`);
      let skipped = null;
      if (redis.url) {
        // The baselines read the service's own answer, byte for byte.
        const Redis = require('ioredis');
        const r = new Redis(redis.url);
        await r.set(`bench:account:${tenant}`, body);
        await r.quit();
      } else skipped = redis.reason;
      const res = await withBaselines(redis.url ? { fair: 'fair-read-baseline.js', bare: 'redis-baseline.js' } : {}, (b) =>
        rounds([
          { who: 'service', pid: api.child.pid, rss, job: () => ({ url: api.url, kind: 'get', params: { paths: [`/connect/accounts/${tenant}`], token } }) },
          b.fair && { who: 'fair', pid: b.fair.child.pid, job: () => ({ url: b.fair.url, kind: 'get', params: { paths: [`/accounts/${tenant}`], token } }) },
          b.bare && { who: 'bare', pid: b.bare.child.pid, job: () => ({ url: b.bare.url, kind: 'get', params: { paths: [`/accounts/${tenant}`] } }) },
        ]),
      );
      S['4'] = { name: 'Account read, warm cache', ...res, skipped };
      if (skipped) log(`  baselines skipped: ${skipped}`);
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
      scale.large = await readScenario(db, api.url, token, 'bl_', rss, api.child.pid);
      S['5'] = { name: 'Scale: reads at 1M routes vs almost empty', ...scale };
    }

    // 10. Cached reads spread over many active tenants: one pass fills the cache, then the measured run.
    if (ONLY.has(10)) {
      log(`scenario 10: ${TENANTS} active tenants, cached reads across all of them (load ${loadAvg()})`);
      // The service serves a row younger than REDIS_TTL from the database on a miss (no Stripe call) and caches it for
      // REDIS_TTL minus its age: synced_at a few minutes ahead keeps every entry alive through the fill and the
      // measured run even on a slow machine (the periodic re-sync from Stripe is not what this scenario measures).
      await db.query(
        `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, country, charges_enabled, payouts_enabled, details_submitted, capabilities, synced_at)
         SELECT 'bt_' || i, 'acct_bt_' || i, 'active', 'account_link', 'express', 'US', true, true, true,
                '{"card_payments":"active","transfers":"active"}'::jsonb, now() + make_interval(secs => $2::int)
           FROM generate_series(1, $1::int) i`,
        [TENANTS, TENANT_SYNC_AHEAD_S],
      );
      const paths = Array.from({ length: TENANTS }, (_, i) => `/connect/accounts/bt_${i + 1}`);
      const syncedAt = Date.now();
      const fill = await loadRun({ url: api.url, kind: 'get', amount: TENANTS, params: { paths, token } });
      const redisBefore = await redisStats(redis.url);
      rss.startPhase();
      const pgBefore = await pgCpuSnapshot();
      const ownBefore = cpuMs(api.child.pid);
      const r = await loadRun({ url: api.url, kind: 'get', duration: DURATION, params: { paths, token } });
      r.cpu_ms_per_req = Number(((cpuMs(api.child.pid) - ownBefore) / r.requests_total).toFixed(2));
      r.pg_cpu_ms_per_req = Number(((await pgCpuSince(pgBefore)) / r.requests_total).toFixed(2));
      r.rss_mb = Math.round(rss.phaseMax);
      const redisAfter = await redisStats(redis.url);
      const hits = redisAfter && redisBefore ? redisAfter.hits - redisBefore.hits : null;
      const misses = redisAfter && redisBefore ? redisAfter.misses - redisBefore.misses : null;
      const withinTtl = (Date.now() - syncedAt) / 1000 < CACHE_TTL_S + TENANT_SYNC_AHEAD_S;
      S['10'] = {
        name: `${TENANTS.toLocaleString('en-US')} active tenants, cached reads across all`,
        service: r,
        fill: { req_per_s: fill.req_per_s, p99_ms: fill.p99_ms, non_2xx: fill.non_2xx, errors: fill.errors },
        cache: { hits, misses, hit_rate: hits !== null && hits + misses > 0 ? hits / (hits + misses) : null, within_ttl: withinTtl, keys: redisAfter && redisAfter.keys },
      };
      log(`  fill ${fmt(fill)}`);
      log(`  measured ${fmt(r)}; Redis hits ${hits}, misses ${misses}${withinTtl ? '' : ' (entries expired during the run)'}`);
    }

    // Drain of everything the request scenarios queued (webhook processing, event dispatch) by a worker replica.
    if (ONLY.has(1) || ONLY.has(2) || ONLY.has(3)) {
      const patterns = [`evt_s1_${run}_%`, `evt_s2_${run}_%`];
      const d = await drainWithWorker('requests', serviceEnv, db, patterns, runSince);
      results.drain_requests = d;
      if (S['1']) {
        const c = await inboxCounts(db, [`${S['1'].prefix}%`], runSince);
        // Requests still in flight when autocannon stops may commit without their answer being counted: every
        // stored event must be settled, and no 2xx answer may lack its row.
        S['1'].check = { accepted: S['1'].service.accepted, stored: c.total, settled: c.settled, ok: c.settled === c.total && c.total >= S['1'].service.accepted };
      }
      if (S['2']) {
        const c = await inboxCounts(db, [`${S['2'].prefix}%`], runSince);
        S['2'].check = {
          stored: c.total,
          settled: c.settled,
          processed_more_than_once: c.reprocessed,
          answered_new: S['2'].answers.reduce((a, x) => a + x.answered_new, 0),
          ok: c.settled === c.total && c.reprocessed === 0 && S['2'].answers.every((x) => x.ok),
        };
      }
    }

    // 9. Processing keeps up: a sustained intake burst on the API replica (workers off), then ONE worker replica
    // drains it; its rate must match the intake's.
    if (ONLY.has(9)) {
      log(`scenario 9: processing keeps up, ${BURST_DURATION} s burst over ${BURST_ACCOUNTS} connected accounts (load ${loadAvg()})`);
      const accounts = [];
      for (let i = 0; i < BURST_ACCOUNTS; i += 20) {
        accounts.push(...(await Promise.all(Array.from({ length: Math.min(20, BURST_ACCOUNTS - i) }, () => connectedAccount()))));
      }
      await db.query(
        `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
         SELECT 'tenant_burst_' || n, a, 'active', 'account_link', 'express', true, true, true FROM unnest($1::text[]) WITH ORDINALITY AS t(a, n)`,
        [accounts.map((a) => a.id)],
      );
      const prefix = `evt_s9_${run}_`;
      const since = new Date(Date.now() - 1000);
      rss.startPhase();
      const pgBefore = await pgCpuSnapshot();
      const ownBefore = cpuMs(api.child.pid);
      const burst = await loadRun({ url: api.url, kind: 'webhook-mix', duration: BURST_DURATION, params: { path: '/connect/webhooks', secret: WEBHOOK_SECRET, prefix, accounts: accounts.map((a) => a.id) } });
      burst.cpu_ms_per_req = Number(((cpuMs(api.child.pid) - ownBefore) / burst.requests_total).toFixed(2));
      burst.pg_cpu_ms_per_req = Number(((await pgCpuSince(pgBefore)) / burst.requests_total).toFixed(2));
      burst.rss_mb = Math.round(rss.phaseMax);
      log(`  burst ${fmt(burst)}`);
      const drain = await drainWithWorker('burst', serviceEnv, db, [`${prefix}%`], since);
      const { rows: outcomes } = await db.query(
        `SELECT type, status::text, outcome, count(*)::int AS n FROM stripe_webhook_events
          WHERE received_at >= $2 AND stripe_event_id LIKE $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        [`${prefix}%`, since],
      );
      const acceptedPerS = burst.stats.ok / BURST_DURATION;
      const processedPerS = drain.events_per_s;
      S['9'] = {
        name: `Processing keeps up (${BURST_DURATION} s burst)`,
        service: burst,
        drain,
        accepted: burst.stats.ok,
        accepted_per_s: Math.round(acceptedPerS),
        processed_per_s: processedPerS,
        drain_ratio: processedPerS && acceptedPerS ? processedPerS / acceptedPerS : null,
        outcomes,
        ok: drain.all_settled && drain.stored >= burst.stats.ok,
      };
      log(`  accepted ${Math.round(acceptedPerS)}/s, processed ${processedPerS}/s, ratio ${S['9'].drain_ratio && S['9'].drain_ratio.toFixed(2)}; outcomes ${JSON.stringify(outcomes)}`);
    }

    // 11. A 5M-row webhook inbox: intake before and after the bulk load, then the service's own retention purge.
    if (ONLY.has(11)) {
      log(`scenario 11: webhook intake before and after loading ${INBOX_ROWS.toLocaleString('en-US')} inbox rows (load ${loadAvg()})`);
      const since = new Date(Date.now() - 1000);
      const before = await measure(webhookJob(api.url, `evt_s11a_${run}_`, '/connect/webhooks'), rss, api.child.pid);
      log(`  before ${fmt(before)}`);
      const load = await bulkLoadInbox(db, INBOX_ROWS);
      log(`  loaded in ${load.seconds} s (rows ${load.insert_s} s, indexes ${load.index_s} s, VACUUM (ANALYZE) + CHECKPOINT ${load.vacuum_s} s; load ${loadAvg()})`);
      const after = await measure(webhookJob(api.url, `evt_s11b_${run}_`, '/connect/webhooks'), rss, api.child.pid);
      log(`  after ${fmt(after)}`);
      const { rows: due } = await db.query(
        `SELECT count(*)::int AS n FROM stripe_webhook_events
          WHERE received_at < now() - make_interval(days => $1) AND payload <> '{}'::jsonb AND status NOT IN ('received', 'failed')`,
        [RETENTION_DAYS],
      );
      log(`  retention purge (RetentionService.purge, ${due[0].n} payloads past the ${RETENTION_DAYS}-day cutoff)`);
      const purge = await runPurge({ ...serviceEnv, WORKERS_ENABLED: 'false' });
      log(`  purge ${JSON.stringify(purge)}`);
      const drain = await drainWithWorker('inbox', serviceEnv, db, [`evt_s11a_${run}_%`, `evt_s11b_${run}_%`], since);
      const accepted = before.warmup_ok + before.stats.ok + after.warmup_ok + after.stats.ok;
      S['11'] = {
        name: `Webhook inbox at ${INBOX_ROWS.toLocaleString('en-US')} rows`,
        before,
        after,
        load,
        purge: { ...purge, due: due[0].n },
        drain,
        check: { accepted, stored: drain.stored, settled: drain.settled, ok: drain.all_settled && drain.stored >= accepted },
      };
    }

    // 7. A busy platform: payments through the service at 50 connections, charges made directly at Stripe on the
    // same connected account at 50 more, and the emulator delivering every resulting webhook to the service. The
    // service runs on production defaults (rate limits on; the per-caller/tenant budgets raised for one test caller).
    if (ONLY.has(7)) {
      log(`scenario 7: busy platform for ${BUSY_DURATION} s (load ${loadAvg()})`);
      const port = await freePort();
      const sdk = new Stripe('sk_test_bench', { host: apiBase.hostname, port: Number(apiBase.port), protocol: 'http', maxNetworkRetries: 0 });
      const endpoint = await sdk.webhookEndpoints.create({ url: `http://127.0.0.1:${port}/connect/webhooks`, enabled_events: ['*'], connect: true });
      const busy = await startService({
        ...serviceEnv,
        STRIPE_CONNECT_WEBHOOK_SECRET: endpoint.secret,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_PER_CALLER: '10000000',
        RATE_LIMIT_PER_TENANT: '10000000',
      }, port, 'service-busy.log');
      const pidBefore = busy.child.pid;
      const [viaService, direct] = await Promise.all([
        loadRun({ url: busy.url, kind: 'payment', duration: BUSY_DURATION, params: { path: '/connect/payments', token, tenant } }),
        loadRun({ url: emulator.url, kind: 'stripe-charge', duration: BUSY_DURATION, params: { key: 'sk_test_bench', account: acct.id } }),
      ]);
      // Let the emulator's deliveries (and their retries) finish, then read the service's own counts.
      await sleep(15_000);
      // Every stored event must be processed (the backlog is durable; workers drain it after the burst).
      const settled = await waitSettled(db, 'evt_', 0, 300_000);
      const intake = await routeStatuses(busy.url, '/connect/webhooks');
      const paymentsAnswered = await routeStatuses(busy.url, '/connect/payments');
      const all = await routeStatuses(busy.url, null);
      const alive = busy.child.exitCode === null && busy.child.signalCode === null;
      const unhandled = await metricSum(busy.url, 'connect_process_unhandled_errors_total');
      await stopChild(busy.child);
      S['7'] = {
        name: `Busy platform (${BUSY_DURATION} s)`,
        service_payments: viaService,
        direct_charges: direct,
        check: {
          same_process: alive && busy.child.pid === pidBefore,
          answers_500: all['500'] || 0,
          unhandled_errors: unhandled,
          intake,
          payments_answered: paymentsAnswered,
          stored: settled.total,
          processed: settled.settled,
          drain_ms: settled.drain_ms,
        },
      };
      log(`  payments via service ${fmt(viaService)} ${JSON.stringify(viaService.stats.statuses)}`);
      log(`  direct charges at the emulator ${fmt(direct)}`);
      log(`  check ${JSON.stringify(S['7'].check)}`);
    }

    // 8. Signed deliveries at 50 connections against the production rate-limit defaults (1,200 a minute per IP on
    // public routes): a delivery whose signature verifies is never limited, so every answer must be 2xx.
    if (ONLY.has(8)) {
      log(`scenario 8: signed deliveries, production rate limits (load ${loadAvg()})`);
      const limited = await startService({ ...serviceEnv, RATE_LIMIT_ENABLED: 'true' }, await freePort(), 'service-limits.log');
      const prefix = `evt_s8_${run}_`;
      const r = await loadRun({ url: limited.url, kind: 'webhook', duration: DURATION, params: { path: '/connect/webhooks', secret: WEBHOOK_SECRET, prefix, account: acct.id, copies: 1 } });
      const check = await waitSettled(db, prefix, r.stats.ok);
      await stopChild(limited.child);
      S['8'] = { name: 'Signed deliveries, production rate limits', service: r, check: { ...check, accepted: r.stats.ok } };
      log(`  ${fmt(r)} ${JSON.stringify(r.stats.statuses)}; stored ${check.total}, processed ${check.settled}`);
    }

    if (api.child.exitCode !== null || api.child.signalCode !== null) results.api_exited = api.child.signalCode || `code ${api.child.exitCode}`;
    results.rss_max_mb = Math.round(rss.max);
    results.memory_at_end = await memoryBreakdown(api.url);
    log(`API replica memory at the end: ${JSON.stringify(results.memory_at_end)}`);
    results.load_avg_at_end = loadAvg();
  } finally {
    if (rss) clearInterval(rss.timer);
    await db.end().catch(() => {});
    for (const c of children.reverse()) await stopChild(c);
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

/** Redis INFO keyspace_hits / keyspace_misses and the key count, for a cache hit rate over a run. */
async function redisStats(url) {
  if (!url) return null;
  const Redis = require('ioredis');
  const r = new Redis(url);
  try {
    const info = await r.info();
    const num = (k) => Number((new RegExp(`^${k}:(\\d+)`, 'm').exec(info) || [])[1] || 0);
    return { hits: num('keyspace_hits'), misses: num('keyspace_misses'), keys: await r.dbsize() };
  } finally {
    r.disconnect();
  }
}

/**
 * Loads `n` settled rows into stripe_webhook_events as fast as PostgreSQL takes them: the table's indexes and
 * constraints are dropped, the rows inserted by one INSERT ... SELECT generate_series, and every index rebuilt from
 * its own definition (checked identical afterwards), then VACUUM (ANALYZE) and CHECKPOINT. received_at spreads over
 * 60 days; rows more than PURGE_BACKLOG_DAYS past the retention cutoff are already purged ('{}' payload), as the
 * daily job leaves them, so the purge that follows finds what is due since its last run.
 */
async function bulkLoadInbox(db, n) {
  const t0 = Date.now();
  const { rows: before } = await db.query(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def, c.conname, pg_get_constraintdef(c.oid) AS condef
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
      WHERE i.indrelid = 'stripe_webhook_events'::regclass ORDER BY 1`,
  );
  for (const ix of before) {
    if (ix.conname) await db.query(`ALTER TABLE stripe_webhook_events DROP CONSTRAINT "${ix.conname}"`);
    else await db.query(`DROP INDEX "${ix.name}"`);
  }
  await db.query(
    `INSERT INTO stripe_webhook_events (stripe_event_id, type, stripe_account_id, tenant_id, livemode, api_version,
       event_created, payload, status, outcome, attempts, source, received_at, processed_at)
     SELECT 'hevt_' || i, t, 'acct_hist_' || (i % 5000), 'tenant_hist_' || (i % 5000), false, '2026-10-28.endive', c,
       CASE WHEN ts < now() - make_interval(days => $2::int + $3::int) THEN '{}'::jsonb ELSE
         ('{"id":"hevt_' || i || '","object":"event","type":"' || t || '","account":"acct_hist_' || (i % 5000) ||
          '","api_version":"2026-10-28.endive","created":' || c || ',"livemode":false,"pending_webhooks":1,' ||
          '"data":{"object":{"id":"cus_h' || i || '","object":"customer","name":"Customer ' || i || '","metadata":{}}}}')::jsonb END,
       CASE WHEN i % 2 = 0 THEN 'processed' ELSE 'ignored' END::stripe_webhook_event_status,
       CASE WHEN i % 2 = 0 THEN 'applied' ELSE 'no_handler' END, 1, 'webhook', ts, ts + interval '1 second'
     FROM (SELECT i, now() - interval '1 hour' - interval '60 days' + i * (interval '60 days' / $1::int) AS ts,
                  CASE WHEN i % 2 = 0 THEN 'account.updated' ELSE 'customer.created' END AS t
             FROM generate_series(1, $1::int) i) g,
          LATERAL (SELECT extract(epoch FROM g.ts)::bigint AS c) cc`,
    [n, RETENTION_DAYS, PURGE_BACKLOG_DAYS],
  );
  const t1 = Date.now();
  await db.query(`SET maintenance_work_mem = '256MB'`);
  for (const ix of before) {
    if (ix.conname) await db.query(`ALTER TABLE stripe_webhook_events ADD CONSTRAINT "${ix.conname}" ${ix.condef}`);
    else await db.query(ix.def);
  }
  await db.query('RESET maintenance_work_mem');
  const { rows: after } = await db.query(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = 'stripe_webhook_events'::regclass ORDER BY 1`,
  );
  const same = JSON.stringify(after.map((x) => [x.name, x.def])) === JSON.stringify(before.map((x) => [x.name, x.def]));
  if (!same) throw new Error(`stripe_webhook_events indexes differ after the bulk load: ${JSON.stringify({ before, after })}`);
  const t2 = Date.now();
  await db.query('VACUUM (ANALYZE) stripe_webhook_events');
  await db.query('CHECKPOINT');
  const t3 = Date.now();
  const { rows: size } = await db.query(`SELECT pg_total_relation_size('stripe_webhook_events') AS bytes`);
  return {
    rows: n,
    seconds: Math.round((t3 - t0) / 1000),
    insert_s: Math.round((t1 - t0) / 1000),
    index_s: Math.round((t2 - t1) / 1000),
    vacuum_s: Math.round((t3 - t2) / 1000),
    table_mb: Math.round(Number(size[0].bytes) / 2 ** 20),
  };
}

/** RetentionService.purge in a process of its own (test/load/retention-purge.js); its own timing, boot excluded. */
function runPurge(env) {
  return new Promise((resolve, reject) => {
    const logFd = fs.openSync(path.join(OUT, 'service-purge.log'), 'w');
    const child = fork(path.join(__dirname, 'retention-purge.js'), [], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    children.push(child);
    let answer = null;
    child.once('message', (m) => (answer = m));
    child.once('exit', (code) => {
      if (answer && answer.ok) resolve({ seconds: Number(answer.seconds.toFixed(1)), ...answer.result });
      else reject(new Error(`retention purge failed (${code}): ${answer ? answer.error : 'see bench-results/service-purge.log'}`));
    });
  });
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

/** The service's own count of answers by status (http_request_duration_seconds_count), for one route or all. */
async function routeStatuses(url, route) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} ([0-9.e+]+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (route && labels.route !== route) continue;
    out[labels.status] = (out[labels.status] || 0) + Number(m[2]);
  }
  return out;
}

async function metricSum(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\{[^}]*\})? ([0-9.e+]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** Scenarios 7 and 8 (their replicas run workers): waits until every row of `prefix` is settled. */
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

/** `tenants` active accounts named <prefix><n>, each with `perTenant` payment routes, in two set-based INSERTs. */
async function seedAccounts(db, prefix, tenants, perTenant) {
  await db.query('BEGIN');
  // Triggers off for this seed only: the analytics trigger would queue a delta per seeded route, and the first
  // worker replica would then fold 1M of them inside the drain it is timing.
  await db.query('SET LOCAL session_replication_role = replica');
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
  await db.query('COMMIT');
}

/** p99 of GET /connect/payments/:id over 1,000 random routes, then of a filtered list page over random tenants. */
async function readScenario(db, url, token, prefix, rss, pid) {
  const { rows } = await db.query(
    `SELECT id, tenant_id FROM payment_routes WHERE tenant_id LIKE $1 || '%' ORDER BY random() LIMIT 1000`,
    [prefix],
  );
  const byId = await measure({ url, kind: 'get', connections: 10, params: { paths: rows.map((r) => `/connect/payments/${r.id}`), token } }, rss, pid);
  const list = await measure(
    { url, kind: 'get', connections: 10, params: { paths: rows.map((r) => `/connect/payments?tenant_id=${r.tenant_id}&status=completed&limit=20`), token } },
    rss,
    pid,
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
  const notes = [];
  const pf = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
  const n2 = (x) => (x === undefined || x === null ? '-' : Number(x).toFixed(2));
  const st = res.settings;
  lines.push(
    `Machine: ${res.machine.nproc} x ${res.machine.cpu}, ${res.machine.ram_gb} GB RAM, Node ${res.machine.node}; ` +
      `${res.machine.date.slice(0, 16).replace('T', ' ')} UTC; load average at start ${res.machine.load_avg_at_start}, at end ${res.load_avg_at_end}; ${Math.round(res.total_s / 60)} min in all.`,
  );
  lines.push(
    `Settings: ${st.rounds} alternating rounds (medians) of ${st.duration_s} s after a ${st.warmup_s} s warm-up, ${st.connections} connections ` +
      `(scenario 5: 10), burst ${st.burst_duration_s} s; API replica WORKERS_ENABLED=false, one worker replica for each drain; ` +
      `service LOG_LEVEL=${st.log_level}, DATABASE_POOL_SIZE=${st.pool_size}; ${st.database}; Redis: ${st.redis}${st.profile ? '; CPU profiler ON (slower)' : ''}.`,
  );
  lines.push('');
  lines.push('| # | scenario | who | req/s | p50 ms | p99 ms | non-2xx | CPU ms/req (process + PG) | vs fair baseline | vs bare baseline | target | result |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---|---|---|---|');
  const cpu = (r) =>
    r && r.cpu_ms_per_req !== undefined ? `${r.cpu_ms_per_req}${r.pg_cpu_ms_per_req !== undefined ? ` + ${r.pg_cpu_ms_per_req}` : ''}` : '-';
  const bad = (r) => (r ? r.non_2xx + r.errors : 0);
  const exitNote = (d) => (d.worker_exited ? `; **the worker replica exited (${d.worker_exited}) during the drain**` : '');
  const row = (n, name, who, r, fair, bare, target, result) =>
    lines.push(
      `| ${n} | ${name} | ${who} | ${r && r.req_per_s !== undefined ? Math.round(r.req_per_s) : '-'} | ${r && r.p50_ms !== undefined ? r.p50_ms : '-'} | ${r && r.p99_ms !== undefined ? r.p99_ms : '-'} | ` +
        `${r ? bad(r) : '-'} | ${cpu(r)} | ${fair} | ${bare} | ${target} | ${result} |`,
    );
  const ratios = (s, b) =>
    b && b.req_per_s ? { thr: s.req_per_s / b.req_per_s, p99: s.p99_ms / Math.max(b.p99_ms, 1) } : null;
  const vs = (s, b) => {
    if (b && !s.requests_total) return `${Math.round(b.req_per_s)} req/s; the service completed no request in the measured run`;
    const r = ratios(s, b);
    return r ? `${Math.round(b.req_per_s)} req/s: **${r.thr.toFixed(2)}**, p99 ${r.p99.toFixed(2)}x` : 'n/a';
  };
  const baseRows = (x) => {
    if (x.fair) row('', '', 'fair baseline', x.fair, '', '', '', '');
    if (x.bare) row('', '', 'bare baseline', x.bare, '', '', '', '');
    const rr = (who) => (x[who] ? x[who].rounds.map((r) => Math.round(r.req_per_s)).join('/') : null);
    notes.push(`${x.name}: req/s by round: service ${rr('service')}${x.fair ? `, fair ${rr('fair')}` : ''}${x.bare ? `, bare ${rr('bare')}` : ''}`);
  };
  if (S['1']) {
    const x = S['1'];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= 0.75 && r.p99 <= 2 && bad(x.service) === 0 : null;
    row(1, x.name, 'service', x.service, vs(x.service, x.fair), vs(x.service, x.bare), '>=0.75 of fair, p99 <=2x, 0 non-2xx', pf(ok));
    baseRows(x);
  }
  if (S['2']) {
    const x = S['2'];
    const c = x.check;
    row(2, x.name, 'service', x.service, vs(x.service, x.fair), vs(x.service, x.bare),
      c ? `each processed once (${c.stored} events, ${c.answered_new} "new" answers, ${c.processed_more_than_once} reprocessed)` : 'each processed once', pf(c ? c.ok && bad(x.service) === 0 : null));
    baseRows(x);
  }
  const d = res.drain_requests;
  if (d) {
    const checks = [S['1'] && S['1'].check, S['2'] && S['2'].check].filter(Boolean);
    const ok = d.all_settled && d.jobs_left === 0 && !d.worker_unhandled_errors && checks.every((c) => c.ok);
    lines.push(
      `|  | queued work of 1-3, drained by a worker replica | worker | ${d.events_per_s ?? '-'} ev/s | | | | ${d.worker_cpu_ms_per_event ?? '-'} + ${d.pg_cpu_ms_per_event ?? '-'} per event | ` +
        `${d.settled}/${d.stored} events settled${S['1'] && S['1'].check ? ` (scenario 1: ${S['1'].check.stored} stored for ${S['1'].check.accepted} 2xx answers)` : ''} in ${d.processing_s ?? '-'} s (wall ${d.wall_s} s incl. ${d.boot_s} s boot); jobs left ${d.jobs_left}${exitNote(d)} | | every accepted event settled, no 2xx without its row | ${pf(ok)} |`,
    );
  }
  if (S['3']) {
    const x = S['3'];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= 0.5 && x.service.cpu_ms_per_req <= 1.5 && x.service.pg_cpu_ms_per_req <= 1 && bad(x.service) === 0 : null;
    row(3, x.name, 'service', x.service, vs(x.service, x.fair), vs(x.service, x.bare), '>=0.5 of fair, CPU <=1.5 ms + PG <=1 ms per payment', pf(ok));
    baseRows(x);
  }
  if (S['4']) {
    const x = S['4'];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= 0.5 && r.p99 <= 2 && bad(x.service) === 0 : null;
    row(4, x.name, 'service', x.service, x.skipped ? `skipped: ${x.skipped}` : vs(x.service, x.fair), x.skipped ? 'skipped' : vs(x.service, x.bare), '>=0.5 of fair, p99 <=2x', pf(ok));
    baseRows(x);
  }
  if (S['5']) {
    const x = S['5'];
    for (const [key, label] of [['by_id', 'GET /connect/payments/:id'], ['list', 'filtered list page']]) {
      const r = x.large[key].p99_ms / Math.max(x.small[key].p99_ms, 1);
      row(5, `${label}, 1M routes`, 'service', x.large[key], `p99 ${r.toFixed(2)}x of ~1k routes`, '', 'p99 <=1.5x of small', pf(r <= 1.5 && bad(x.large[key]) === 0));
      row('', `${label}, ~1k routes`, 'service', x.small[key], '', '', '', '');
    }
  }
  if (S['10']) {
    const x = S['10'];
    const c = x.cache;
    const s4p99 = S['4'] ? S['4'].service.p99_ms : null;
    const p99r = s4p99 ? x.service.p99_ms / Math.max(s4p99, 1) : null;
    const ok = c.hit_rate === null ? null : c.hit_rate >= 0.99 && (p99r === null || p99r <= 2) && bad(x.service) === 0;
    row(10, x.name, 'service', x.service,
      `cache hit rate ${c.hit_rate === null ? 'n/a (no Redis)' : `**${(100 * c.hit_rate).toFixed(1)}%**`} (${c.hits ?? '-'} hits, ${c.misses ?? '-'} misses${c.within_ttl ? '' : ', entries expired during the run'})${p99r !== null ? `; p99 ${p99r.toFixed(2)}x of scenario 4` : ''}`,
      `fill pass: ${Math.round(x.fill.req_per_s)} req/s, p99 ${x.fill.p99_ms} ms`, 'hit rate >=99%, p99 <=2x of scenario 4', pf(ok));
  }
  if (S['9']) {
    const x = S['9'];
    const dr = x.drain;
    const au = x.outcomes.filter((o) => o.type === 'account.updated');
    const cnt = (f) => au.filter(f).reduce((a, o) => a + o.n, 0);
    const breakdown = `account.updated: ${cnt((o) => o.status === 'processed' && o.outcome === 'applied')} applied, ${cnt((o) => o.status === 'processed' && o.outcome === 'stale')} stale, ${cnt((o) => o.status === 'processed' && o.outcome !== 'applied' && o.outcome !== 'stale')} other processed, ${cnt((o) => o.status === 'ignored')} ignored, ${cnt((o) => !['processed', 'ignored'].includes(o.status))} not settled; customer.created: ${x.outcomes.filter((o) => o.type === 'customer.created').map((o) => `${o.n} ${o.status}/${o.outcome}`).join(', ')}`;
    const ok = x.drain_ratio !== null && x.drain_ratio >= 1 && x.ok && dr.jobs_left === 0 && !dr.worker_unhandled_errors;
    const fair1 = S['1'] && S['1'].fair ? `; fair intake (scenario 1) ${Math.round(S['1'].fair.req_per_s)} req/s` : '';
    row(9, `${x.name}: intake, API replica`, 'service', x.service, `accepted ${x.accepted_per_s}/s${fair1}`, '', '', '');
    lines.push(
      `|  | drained by ONE worker replica | worker | ${x.processed_per_s ?? '-'} ev/s | | | | ${dr.worker_cpu_ms_per_event ?? '-'} + ${dr.pg_cpu_ms_per_event ?? '-'} per event | ` +
        `drain ratio **${n2(x.drain_ratio)}** (${x.processed_per_s}/s processed ÷ ${x.accepted_per_s}/s accepted); ${dr.settled}/${dr.stored} settled (${x.accepted} 2xx answers) in ${dr.processing_s} s (wall ${dr.wall_s} s incl. ${dr.boot_s} s boot)${exitNote(dr)}; ${breakdown} | | drain ratio >=1.0, all processed | ${pf(ok)} |`,
    );
  }
  if (S['11']) {
    const x = S['11'];
    const p99r = x.after.p99_ms / Math.max(x.before.p99_ms, 1);
    const thr = x.after.req_per_s / x.before.req_per_s;
    row(11, `${x.name}: webhook intake`, 'service', x.after, `p99 **${p99r.toFixed(2)}x**, req/s ${thr.toFixed(2)} of the empty inbox`, '', 'p99 <=1.5x of before the load', pf(p99r <= 1.5 && bad(x.after) === 0));
    row('', 'webhook intake before the load', 'service', x.before, '', '', '', '');
    lines.push(
      `|  | retention purge (RetentionService.purge) | service | | | | | | ${x.purge.webhookPayloads} payloads purged (${x.purge.due} due) in **${x.purge.seconds} s** (${x.purge.seconds ? Math.round(x.purge.webhookPayloads / x.purge.seconds) : '-'} rows/s); bulk load ${x.load.seconds} s (${x.load.table_mb} MB) | | every due payload purged; seconds reported | ${pf(x.purge.webhookPayloads >= x.purge.due)} |`,
    );
    lines.push(
      `|  | its events, drained by a worker replica | worker | ${x.drain.events_per_s ?? '-'} ev/s | | | | | ${x.check.settled}/${x.check.stored} settled (${x.check.accepted} 2xx answers)${exitNote(x.drain)} | | every accepted event settled | ${pf(x.check.ok && x.drain.jobs_left === 0 && !x.drain.worker_unhandled_errors)} |`,
    );
  }
  if (S['7']) {
    const x = S['7'];
    const c = x.check;
    const pass = c.same_process && c.answers_500 === 0 && c.unhandled_errors === 0 && c.processed === c.stored;
    row(7, `${x.name}: payments via the service`, 'service', x.service_payments, '', '', 'same process, 0 x 500', pf(pass));
    row('', 'charges made directly at Stripe', 'emulator', x.direct_charges, '', '', '', '');
    lines.push(`|  | webhook intake during it | service | | | | | | answers ${JSON.stringify(c.intake)}; payments answered by the service ${JSON.stringify(c.payments_answered)}; ${c.processed}/${c.stored} stored events processed; 500s ${c.answers_500}; unhandled ${c.unhandled_errors} | | intake 2xx (503 only at saturation) | ${pf(pass)} |`);
  }
  if (S['8']) {
    const x = S['8'];
    row(8, x.name, 'service', x.service, '', '', '0 non-2xx, all processed', pf(bad(x.service) === 0 && x.check.settled === x.check.total));
  }
  const workerRss = [res.drain_requests, S['9'] && S['9'].drain, S['11'] && S['11'].drain].filter(Boolean).map((x) => x.worker_rss_max_mb);
  const m = res.memory_at_end;
  lines.push(
    `| 6 | Memory: RSS max through the run | API replica | | | | | | ${res.api_exited ? `**the API replica exited (${res.api_exited}) before the end**; ` : ''}${res.rss_max_mb} MB${m && m.rss_mb ? `; at the end: RSS ${m.rss_mb}, heap ${m.heap_used_mb}/${m.heap_total_mb} MB used/total` : ''}` +
      `${workerRss.length ? `; worker replicas ${Math.max(...workerRss)} MB` : ''} | | < 300 MB | ${pf(res.rss_max_mb < 300 && (!workerRss.length || Math.max(...workerRss) < 300))} |`,
  );
  if (notes.length) {
    lines.push('');
    for (const n of notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}

main().catch(async (err) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});

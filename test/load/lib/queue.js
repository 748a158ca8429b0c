/* eslint-disable */
// Queued work and the service's own counts: inbox rows settled, queues empty, a worker replica draining them, and
// what /metrics and Redis INFO say.
const { SETTLED, DRAIN_STALL_MS } = require('./options');
const { log, sleep, loadAvg, startService, stopChild, rssSampler } = require('./procs');
const { cpuMs, pgCpuSnapshot, pgCpuSince } = require('./stats');

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
  const worker = await startService(
    { ...serviceEnv, WORKERS_ENABLED: 'true' },
    null,
    `service-worker-${label}.log`,
  );
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
    if (worker.child.exitCode !== null || worker.child.signalCode !== null)
      exited = worker.child.signalCode || `code ${worker.child.exitCode}`;
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

module.exports = {
  inboxCounts,
  queueBacklog,
  drainWithWorker,
  redisStats,
  memoryBreakdown,
  routeStatuses,
  metricSum,
  waitSettled,
};

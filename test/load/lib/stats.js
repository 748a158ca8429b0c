/* eslint-disable */
// CPU per request (the server's /proc times and every PostgreSQL backend's of the database under test), measured
// runs, alternating rounds and their medians.
const fs = require('node:fs');
const { ROUNDS, DURATION, WARMUP } = require('./options');
const { log, loadRun } = require('./procs');

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

// The bench database's client: its backends are the "PG" of CPU ms/req unless a side names other nodes.
let benchDb = null;
const setBenchDb = (db) => (benchDb = db);

/** CPU ms of every PostgreSQL backend serving the client's database now, by pid. */
async function pgCpuSnapshot(client = benchDb) {
  if (!client) return new Map();
  const { rows } = await client.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

/** CPU the database's backends spent since `before`, counting backends opened meanwhile in full. */
async function pgCpuSince(before, client = benchDb) {
  const now = await pgCpuSnapshot(client);
  let sum = 0;
  for (const [pid, ms] of now) sum += Math.max(0, ms - (before.get(pid) ?? 0));
  return sum;
}

/** Snapshots of several databases at once (a Citus cluster's nodes): {name: Map}. */
async function nodesSnapshot(nodes) {
  const out = {};
  for (const n of nodes) out[n.name] = await pgCpuSnapshot(n.client);
  return out;
}

async function nodesSince(nodes, before) {
  const out = {};
  for (const n of nodes) out[n.name] = await pgCpuSince(before[n.name], n.client);
  return out;
}

/**
 * CPU ms per second of processes (`pids`: [{name, pid}]) and databases (`nodes`: [{name, client}]) with no request
 * load for `ms`: their background work (polls, maintenance daemons), to read per-request CPU against.
 */
async function idleCpu(pids, nodes, ms) {
  const own = pids.map((p) => cpuMs(p.pid));
  const pg = await nodesSnapshot(nodes);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const s = (Date.now() - t0) / 1000;
  const byNode = await nodesSince(nodes, pg);
  const out = {};
  pids.forEach((p, i) => (out[p.name] = Number(((cpuMs(p.pid) - own[i]) / s).toFixed(1))));
  for (const [k, v] of Object.entries(byNode)) out[k] = Number((v / s).toFixed(1));
  return out;
}

/**
 * A short warm-up (JIT, pools, caches), then the measured run. `pid`: the server under test, whose CPU time per
 * request is reported with the PostgreSQL backends' (on a saturated 2-core machine the ratio follows CPU/request).
 * `nodes` ([{name, client}]): the databases whose backends count as PG (default: the bench database); with more
 * than one, the split by node is kept too.
 */
async function measure(job, rss, pid, nodes) {
  const pg = nodes || [{ name: 'pg', client: benchDb }];
  // Webhook ids: <prefix>w... for the warm-up, <prefix>m... for the measured run.
  let warmupOk = 0;
  if (WARMUP > 0)
    warmupOk = (
      await loadRun({
        ...job,
        duration: WARMUP,
        params: { ...job.params, prefix: `${job.params.prefix || ''}w` },
      })
    ).stats.ok;
  if (rss) rss.startPhase();
  const pgBefore = await nodesSnapshot(pg);
  const ownBefore = pid ? cpuMs(pid) : 0;
  const r = await loadRun({
    ...job,
    duration: DURATION,
    params: { ...job.params, prefix: `${job.params.prefix || ''}m` },
  });
  r.warmup_ok = warmupOk;
  if (pid && r.requests_total > 0) {
    const per = (ms) => Number((ms / r.requests_total).toFixed(2));
    // Totals kept too: a difference of a few µs per request (scenario 4's revocation check) needs more than 2 decimals.
    r.cpu_ms = cpuMs(pid) - ownBefore;
    r.cpu_ms_per_req = per(r.cpu_ms);
    const byNode = await nodesSince(pg, pgBefore);
    r.pg_cpu_ms = Object.values(byNode).reduce((a, x) => a + x, 0);
    r.pg_cpu_ms_per_req = per(r.pg_cpu_ms);
    if (pg.length > 1)
      r.pg_cpu_by_node = Object.fromEntries(Object.entries(byNode).map(([k, v]) => [k, per(v)]));
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
  const nodes = runs[0] && runs[0].pg_cpu_by_node ? Object.keys(runs[0].pg_cpu_by_node) : null;
  return {
    req_per_s: med('req_per_s'),
    p50_ms: med('p50_ms'),
    p99_ms: med('p99_ms'),
    cpu_ms_per_req: med('cpu_ms_per_req'),
    pg_cpu_ms_per_req: med('pg_cpu_ms_per_req'),
    ...(nodes
      ? {
          pg_cpu_by_node: Object.fromEntries(
            nodes.map((n) => [n, median(runs.map((r) => r.pg_cpu_by_node && r.pg_cpu_by_node[n]))]),
          ),
        }
      : {}),
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
 * so a noisy neighbour hurts every side alike; the servers stay up throughout. `sides`: {who, pid, rss, nodes,
 * job(round)}.
 */
async function rounds(sides) {
  const live = sides.filter(Boolean);
  const runs = Object.fromEntries(live.map((s) => [s.who, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of live) {
      const res = await measure(s.job(r), s.rss, s.pid, s.nodes);
      runs[s.who].push(res);
      log(`  round ${r + 1}/${ROUNDS} ${s.who}: ${fmt(res)}`);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([who, rs]) => [who, summarize(rs)]));
}

function fmt(r) {
  return (
    `${Math.round(r.req_per_s)} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, non-2xx ${r.non_2xx}, errors ${r.errors}` +
    `${r.rss_mb ? `, RSS ${r.rss_mb} MB` : ''}${r.cpu_ms_per_req !== undefined ? `, CPU ${r.cpu_ms_per_req} ms/req (+ PG ${r.pg_cpu_ms_per_req ?? '?'}${r.pg_cpu_by_node ? ` ${JSON.stringify(r.pg_cpu_by_node)}` : ''})` : ''}`
  );
}

module.exports = {
  idleCpu,
  cpuMs,
  setBenchDb,
  pgCpuSnapshot,
  pgCpuSince,
  measure,
  median,
  summarize,
  rounds,
  fmt,
};

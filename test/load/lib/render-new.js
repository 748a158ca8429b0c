/* eslint-disable */
// Table rows of scenario 4's revocation cost and of scenarios 12-15 (thin-event intake, Account Sessions, the
// cached balance, payments on Citus), with the helpers render() passes in.

const n2 = (x) => (x === undefined || x === null ? '-' : Number(x).toFixed(2));
const pct = (a, b) => `${a >= b ? '+' : '−'}${Math.abs((100 * (a - b)) / b).toFixed(1)} %`;
const sum = (r) => (r.cpu_ms_per_req ?? 0) + (r.pg_cpu_ms_per_req ?? 0);

/** Scenario 4: what the revocation check costs a bare read (fair + revocation against fair, same rounds). */
function revocationRow(lines, x) {
  const f = x.fair;
  const r = x.fair_revocation;
  const rv = x.revocations || {};
  // µs per request over all rounds (CPU totals / requests): the check is a few µs, below the table's 2 decimals.
  const us = (side, k) => {
    const n = side.rounds.reduce((acc, q) => acc + (q.requests_total || 0), 0);
    return n ? (1000 * side.rounds.reduce((acc, q) => acc + (q[k] || 0), 0)) / n : null;
  };
  const dUs = (k) => (us(r, k) === null || us(f, k) === null ? '-' : (us(r, k) - us(f, k)).toFixed(1));
  lines.push(
    `|  | revocation check's cost (fair + revocation vs fair) | | ${Math.round(r.req_per_s - f.req_per_s)} | | | | ${n2(r.cpu_ms_per_req - f.cpu_ms_per_req)} + ${n2(r.pg_cpu_ms_per_req - f.pg_cpu_ms_per_req)} | ` +
      `${Math.round(r.req_per_s)} vs ${Math.round(f.req_per_s)} req/s: **${pct(r.req_per_s, f.req_per_s)}** req/s, CPU ${n2(sum(r))} vs ${n2(sum(f))} ms/req (process + PG), over all rounds ${dUs('cpu_ms')} µs + ${dUs('pg_cpu_ms')} µs PG per request; ` +
      `${rv.active ?? '-'} active revocations in memory, synced every ${rv.sync_ms ?? '-'} ms` +
      `${rv.idle_cpu_ms_per_s ? `; the API replica with no request (the poll among its background work): ${rv.idle_cpu_ms_per_s.service} ms/s CPU, its backends ${rv.idle_cpu_ms_per_s.PostgreSQL} ms/s` : ''} | | report | |`,
  );
}

function newRows(res, h) {
  const S = res.scenarios;
  const { row, vs, ratios, bad, pf, baseRows, lines } = h;
  if (S['12']) {
    const x = S['12'];
    const r = ratios(x.service, x.fair);
    const c = x.check;
    const d = x.drain;
    const ok = r ? r.thr >= 0.75 && r.p99 <= 2 && bad(x.service) === 0 && c.ok : null;
    row(
      12,
      x.name,
      'service',
      x.service,
      vs(x.service, x.fair),
      '',
      '>=0.75 of fair, p99 <=2x, 0 non-2xx',
      pf(ok),
    );
    baseRows(x);
    const outcomes = (x.outcomes || []).map((o) => `${o.n} ${o.status}/${o.outcome}`).join(', ');
    lines.push(
      `|  | its thin events, drained by a worker replica | worker | ${d.events_per_s ?? '-'} ev/s | | | | ${d.worker_cpu_ms_per_event ?? '-'} + ${d.pg_cpu_ms_per_event ?? '-'} per event | ` +
        `${c.settled}/${c.stored} settled (${c.accepted} 2xx answers): ${outcomes}${d.worker_exited ? `; **the worker replica exited (${d.worker_exited})**` : ''} | | every accepted event stored and settled | ${pf(c.ok && d.jobs_left === 0 && !d.worker_unhandled_errors)} |`,
    );
  }
  for (const [n, target, min] of [
    ['13', '>=0.5 of fair, 0 non-2xx', 0.5],
    ['14', '>=0.5 of fair, 0 non-2xx', 0.5],
  ]) {
    if (!S[n]) continue;
    const x = S[n];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= min && bad(x.service) === 0 : null;
    row(
      Number(n),
      x.name,
      'service',
      x.service,
      x.skipped ? `skipped: ${x.skipped}` : vs(x.service, x.fair),
      x.bare ? vs(x.service, x.bare) : '',
      target,
      pf(ok),
    );
    baseRows(x);
  }
  if (S['15']) {
    const x = S['15'];
    if (x.skipped) {
      row(15, x.name, 'service', null, `skipped: ${x.skipped}`, '', 'report ratio, p99; 0 errors', 'n/a');
      return;
    }
    const r = ratios(x.citus, x.single);
    const nodes = x.citus.pg_cpu_by_node || {};
    const workers = Object.entries(nodes).filter(([k]) => k !== 'coordinator');
    const workerSum = workers.reduce((a, [, v]) => a + (v || 0), 0);
    const where =
      `where the time goes (ms CPU per payment): service ${n2(x.citus.cpu_ms_per_req)} vs ${n2(x.single.cpu_ms_per_req)}; ` +
      `PostgreSQL coordinator ${n2(nodes.coordinator)} + workers ${n2(workerSum)} (${workers.map(([k, v]) => `${k} ${n2(v)}`).join(', ')}) vs single ${n2(x.single.pg_cpu_ms_per_req)}`;
    row(
      15,
      `${x.name}: POST /connect/payments`,
      'service on Citus',
      x.citus,
      r
        ? `single PostgreSQL ${Math.round(x.single.req_per_s)} req/s: **${r.thr.toFixed(2)}**, p99 ${x.citus.p99_ms} vs ${x.single.p99_ms} ms (${r.p99.toFixed(2)}x); ${where}`
        : 'n/a',
      '',
      'report ratio, p99, CPU split; 0 errors',
      pf(bad(x.citus) === 0 && bad(x.single) === 0),
    );
    row('', 'the same on the single PostgreSQL', 'service', x.single, '', '', '', '');
    const rr = (who) => x[who].rounds.map((q) => Math.round(q.req_per_s)).join('/');
    lines.push(
      `|  | Citus cluster | | | | | | | ${x.cluster.version}; ${x.cluster.distributed_tables} distributed tables; cluster + replica boot ${x.cluster.setup_s} s; idle (no requests) CPU ms/s: ${Object.entries(
        x.cluster.idle_cpu_ms_per_s || {},
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; ${x.cluster.settings.join(', ')}; req/s by round: Citus ${rr('citus')}, single ${rr('single')} | | | |`,
    );
  }
}

module.exports = { revocationRow, newRows };

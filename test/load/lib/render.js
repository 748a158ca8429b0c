/* eslint-disable */
// The results table (bench-results/latest.md, the one BENCHMARKS.md keeps): one row per side, ratios against the
// fair and bare baselines, targets and PASS/FAIL.
const { revocationRow, newRows } = require('./render-new');

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
  lines.push(
    '| # | scenario | who | req/s | p50 ms | p99 ms | non-2xx | CPU ms/req (process + PG) | vs fair baseline | vs bare baseline | target | result |',
  );
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---|---|---|---|');
  const cpu = (r) =>
    r && r.cpu_ms_per_req !== undefined
      ? `${r.cpu_ms_per_req}${r.pg_cpu_ms_per_req !== undefined ? ` + ${r.pg_cpu_ms_per_req}` : ''}`
      : '-';
  const bad = (r) => (r ? r.non_2xx + r.errors : 0);
  const exitNote = (d) =>
    d.worker_exited ? `; **the worker replica exited (${d.worker_exited}) during the drain**` : '';
  const row = (n, name, who, r, fair, bare, target, result) =>
    lines.push(
      `| ${n} | ${name} | ${who} | ${r && r.req_per_s !== undefined ? Math.round(r.req_per_s) : '-'} | ${r && r.p50_ms !== undefined ? r.p50_ms : '-'} | ${r && r.p99_ms !== undefined ? r.p99_ms : '-'} | ` +
        `${r ? bad(r) : '-'} | ${cpu(r)} | ${fair} | ${bare} | ${target} | ${result} |`,
    );
  // A baseline that answered errors did not do the work: no ratio against it (the result says n/a).
  const ratios = (s, b) =>
    b && b.req_per_s && bad(b) === 0
      ? { thr: s.req_per_s / b.req_per_s, p99: s.p99_ms / Math.max(b.p99_ms, 1) }
      : null;
  const vs = (s, b) => {
    if (b && bad(b) > 0)
      return `${Math.round(b.req_per_s)} req/s, but **the baseline answered ${bad(b)} non-2xx/errors**: no valid ratio`;
    if (b && !s.requests_total)
      return `${Math.round(b.req_per_s)} req/s; the service completed no request in the measured run`;
    const r = ratios(s, b);
    return r ? `${Math.round(b.req_per_s)} req/s: **${r.thr.toFixed(2)}**, p99 ${r.p99.toFixed(2)}x` : 'n/a';
  };
  const baseRows = (x) => {
    if (x.fair) row('', '', 'fair baseline', x.fair, '', '', '', '');
    if (x.fair_revocation) row('', '', 'fair baseline + revocation check', x.fair_revocation, '', '', '', '');
    if (x.bare) row('', '', 'bare baseline', x.bare, '', '', '', '');
    const rr = (who) => (x[who] ? x[who].rounds.map((r) => Math.round(r.req_per_s)).join('/') : null);
    notes.push(
      `${x.name}: req/s by round: service ${rr('service')}${x.fair ? `, fair ${rr('fair')}` : ''}${x.fair_revocation ? `, fair + revocation ${rr('fair_revocation')}` : ''}${x.bare ? `, bare ${rr('bare')}` : ''}`,
    );
  };
  if (S['1']) {
    const x = S['1'];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= 0.75 && r.p99 <= 2 && bad(x.service) === 0 : null;
    row(
      1,
      x.name,
      'service',
      x.service,
      vs(x.service, x.fair),
      vs(x.service, x.bare),
      '>=0.75 of fair, p99 <=2x, 0 non-2xx',
      pf(ok),
    );
    baseRows(x);
  }
  if (S['2']) {
    const x = S['2'];
    const c = x.check;
    row(
      2,
      x.name,
      'service',
      x.service,
      vs(x.service, x.fair),
      vs(x.service, x.bare),
      c
        ? `each processed once (${c.stored} events, ${c.answered_new} "new" answers, ${c.processed_more_than_once} reprocessed)`
        : 'each processed once',
      pf(c ? c.ok && bad(x.service) === 0 : null),
    );
    baseRows(x);
  }
  const d = res.drain_requests;
  if (d) {
    const checks = [S['1'] && S['1'].check, S['2'] && S['2'].check].filter(Boolean);
    const ok = d.all_settled && d.jobs_left === 0 && !d.worker_unhandled_errors && checks.every((c) => c.ok);
    lines.push(
      `|  | queued work of the request scenarios (1-3, 15), drained by a worker replica | worker | ${d.events_per_s ?? '-'} ev/s | | | | ${d.worker_cpu_ms_per_event ?? '-'} + ${d.pg_cpu_ms_per_event ?? '-'} per event | ` +
        `${d.settled}/${d.stored} events settled${S['1'] && S['1'].check ? ` (scenario 1: ${S['1'].check.stored} stored for ${S['1'].check.accepted} 2xx answers)` : ''} in ${d.processing_s ?? '-'} s (wall ${d.wall_s} s incl. ${d.boot_s} s boot); jobs left ${d.jobs_left}${exitNote(d)} | | every accepted event settled, no 2xx without its row | ${pf(ok)} |`,
    );
  }
  if (S['3']) {
    const x = S['3'];
    const r = ratios(x.service, x.fair);
    const ok = r
      ? r.thr >= 0.5 &&
        x.service.cpu_ms_per_req <= 1.5 * x.fair.cpu_ms_per_req &&
        x.service.pg_cpu_ms_per_req <= 1.5 * x.fair.pg_cpu_ms_per_req &&
        bad(x.service) === 0
      : null;
    row(
      3,
      x.name,
      'service',
      x.service,
      vs(x.service, x.fair),
      vs(x.service, x.bare),
      ">=0.5 of fair; service and PG CPU per payment each <=1.5x the fair baseline's",
      pf(ok),
    );
    baseRows(x);
  }
  if (S['4']) {
    const x = S['4'];
    const r = ratios(x.service, x.fair);
    const ok = r ? r.thr >= 0.6 && r.p99 <= 2 && bad(x.service) === 0 : null;
    row(
      4,
      x.name,
      'service',
      x.service,
      x.skipped ? `skipped: ${x.skipped}` : vs(x.service, x.fair),
      x.skipped ? 'skipped' : vs(x.service, x.bare),
      '>=0.6 of fair, p99 <=2x (revocation check in the path)',
      pf(ok),
    );
    baseRows(x);
    if (x.fair && x.fair_revocation) revocationRow(lines, x);
  }
  if (S['5']) {
    const x = S['5'];
    for (const [key, label] of [
      ['by_id', 'GET /connect/payments/:id'],
      ['list', 'filtered list page'],
    ]) {
      const r = x.large[key].p99_ms / Math.max(x.small[key].p99_ms, 1);
      row(
        5,
        `${label}, 1M routes`,
        'service',
        x.large[key],
        `p99 ${r.toFixed(2)}x of ~1k routes`,
        '',
        'p99 <=1.5x of small',
        pf(r <= 1.5 && bad(x.large[key]) === 0),
      );
      row('', `${label}, ~1k routes`, 'service', x.small[key], '', '', '', '');
    }
  }
  if (S['10']) {
    const x = S['10'];
    const c = x.cache;
    const s4p99 = S['4'] ? S['4'].service.p99_ms : null;
    const p99r = s4p99 ? x.service.p99_ms / Math.max(s4p99, 1) : null;
    const ok =
      c.hit_rate === null ? null : c.hit_rate >= 0.99 && (p99r === null || p99r <= 2) && bad(x.service) === 0;
    row(
      10,
      x.name,
      'service',
      x.service,
      `cache hit rate ${c.hit_rate === null ? 'n/a (no Redis)' : `**${(100 * c.hit_rate).toFixed(1)}%**`} (${c.hits ?? '-'} hits, ${c.misses ?? '-'} misses${c.within_ttl ? '' : ', entries expired during the run'})${p99r !== null ? `; p99 ${p99r.toFixed(2)}x of scenario 4` : ''}`,
      `fill pass: ${Math.round(x.fill.req_per_s)} req/s, p99 ${x.fill.p99_ms} ms`,
      'hit rate >=99%, p99 <=2x of scenario 4',
      pf(ok),
    );
  }
  if (S['9']) {
    const x = S['9'];
    const dr = x.drain;
    const au = x.outcomes.filter((o) => o.type === 'account.updated');
    const cnt = (f) => au.filter(f).reduce((a, o) => a + o.n, 0);
    const breakdown = `account.updated: ${cnt((o) => o.status === 'processed' && o.outcome === 'applied')} applied, ${cnt((o) => o.status === 'processed' && o.outcome === 'stale')} stale, ${cnt((o) => o.status === 'processed' && o.outcome !== 'applied' && o.outcome !== 'stale')} other processed, ${cnt((o) => o.status === 'ignored')} ignored, ${cnt((o) => !['processed', 'ignored'].includes(o.status))} not settled; customer.created: ${x.outcomes
      .filter((o) => o.type === 'customer.created')
      .map((o) => `${o.n} ${o.status}/${o.outcome}`)
      .join(', ')}`;
    const ok =
      x.drain_ratio !== null &&
      x.drain_ratio >= 1.2 &&
      x.ok &&
      dr.jobs_left === 0 &&
      !dr.worker_unhandled_errors;
    const fair1 =
      S['1'] && S['1'].fair ? `; fair intake (scenario 1) ${Math.round(S['1'].fair.req_per_s)} req/s` : '';
    row(
      9,
      `${x.name}: intake, API replica`,
      'service',
      x.service,
      `accepted ${x.accepted_per_s}/s${fair1}`,
      '',
      '',
      '',
    );
    lines.push(
      `|  | drained by ONE worker replica | worker | ${x.processed_per_s ?? '-'} ev/s | | | | ${dr.worker_cpu_ms_per_event ?? '-'} + ${dr.pg_cpu_ms_per_event ?? '-'} per event | ` +
        `drain ratio **${n2(x.drain_ratio)}** (${x.processed_per_s}/s processed ÷ ${x.accepted_per_s}/s accepted); ${dr.settled}/${dr.stored} settled (${x.accepted} 2xx answers) in ${dr.processing_s} s (wall ${dr.wall_s} s incl. ${dr.boot_s} s boot)${exitNote(dr)}; ${breakdown} | | drain ratio >=1.2, all processed | ${pf(ok)} |`,
    );
  }
  if (S['11']) {
    const x = S['11'];
    const p99r = x.after.p99_ms / Math.max(x.before.p99_ms, 1);
    const thr = x.after.req_per_s / x.before.req_per_s;
    row(
      11,
      `${x.name}: webhook intake`,
      'service',
      x.after,
      `p99 **${p99r.toFixed(2)}x**, req/s ${thr.toFixed(2)} of the empty inbox`,
      '',
      'p99 <=1.5x of before the load',
      pf(p99r <= 1.5 && bad(x.after) === 0),
    );
    row('', 'webhook intake before the load', 'service', x.before, '', '', '', '');
    lines.push(
      `|  | retention purge (RetentionService.purge) | service | | | | | | ${x.purge.webhookPayloads} payloads purged (${x.purge.due} due) in **${x.purge.seconds} s** (${x.purge.seconds ? Math.round(x.purge.webhookPayloads / x.purge.seconds) : '-'} rows/s); bulk load ${x.load.seconds} s (${x.load.table_mb} MB) | | every due payload purged; seconds reported | ${pf(x.purge.webhookPayloads >= x.purge.due)} |`,
    );
    lines.push(
      `|  | its events, drained by a worker replica | worker | ${x.drain.events_per_s ?? '-'} ev/s | | | | | ${x.check.settled}/${x.check.stored} settled (${x.check.accepted} 2xx answers)${exitNote(x.drain)} | | every accepted event settled | ${pf(x.check.ok && x.drain.jobs_left === 0 && !x.drain.worker_unhandled_errors)} |`,
    );
  }
  newRows(res, { row, vs, ratios, bad, pf, baseRows, lines });
  if (S['7']) {
    const x = S['7'];
    const c = x.check;
    const pass =
      c.same_process && c.answers_500 === 0 && c.unhandled_errors === 0 && c.processed === c.stored;
    row(
      7,
      `${x.name}: payments via the service`,
      'service',
      x.service_payments,
      '',
      '',
      'same process, 0 x 500',
      pf(pass),
    );
    row('', 'charges made directly at Stripe', 'emulator', x.direct_charges, '', '', '', '');
    lines.push(
      `|  | webhook intake during it | service | | | | | | answers ${JSON.stringify(c.intake)}; payments answered by the service ${JSON.stringify(c.payments_answered)}; ${c.processed}/${c.stored} stored events processed; 500s ${c.answers_500}; unhandled ${c.unhandled_errors} | | intake 2xx (503 only at saturation) | ${pf(pass)} |`,
    );
  }
  if (S['8']) {
    const x = S['8'];
    row(
      8,
      x.name,
      'service',
      x.service,
      '',
      '',
      '0 non-2xx, all processed',
      pf(bad(x.service) === 0 && x.check.settled === x.check.total),
    );
  }
  const workerRss = [res.drain_requests, S['9'] && S['9'].drain, S['11'] && S['11'].drain]
    .filter(Boolean)
    .map((x) => x.worker_rss_max_mb);
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

module.exports = { render };

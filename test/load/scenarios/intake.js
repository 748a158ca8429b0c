/* eslint-disable */
// Webhook intake: unique events (1), the duplicate storm (2), the drain of what the request scenarios queued, and
// the intake at a multi-million-row inbox with the retention purge (11).
const { ROUNDS, CONNECTIONS, INBOX_ROWS, RETENTION_DAYS } = require('../lib/options');
const { log, loadAvg, runPurge } = require('../lib/procs');
const { measure, rounds, fmt } = require('../lib/stats');
const { inboxCounts, drainWithWorker } = require('../lib/queue');
const { bulkLoadInbox } = require('../lib/seed');

/** 1. Webhook intake, unique events; every accepted event is processed by the worker replica afterwards. */
async function scenario1(c) {
  const { api, rss, run, S, withBaselines, webhookJob } = c;
  log(`scenario 1: webhook intake, unique signed events, ${ROUNDS} rounds (load ${loadAvg()})`);
  const prefix = `evt_s1_${run}_`;
  // Baseline event ids start bevt_: no service check counting evt_ rows ever sees them.
  const res = await withBaselines({ fair: 'fair-intake-baseline.js', bare: 'webhook-baseline.js' }, (b) =>
    rounds([
      {
        who: 'service',
        pid: api.child.pid,
        rss,
        job: (r) => webhookJob(api.url, `${prefix}r${r}_`, '/connect/webhooks'),
      },
      b.fair && {
        who: 'fair',
        pid: b.fair.child.pid,
        job: (r) => webhookJob(b.fair.url, `bevt_f1_${run}_r${r}_`, '/webhooks'),
      },
      b.bare && {
        who: 'bare',
        pid: b.bare.child.pid,
        job: (r) => webhookJob(b.bare.url, `bevt_b1_${run}_r${r}_`, '/webhooks'),
      },
    ]),
  );
  S['1'] = { name: 'Webhook intake, unique events', prefix, ...res };
}

/** 2. Duplicate storm: every event 5 times at once; each stored and processed once. */
async function scenario2(c) {
  const { api, rss, db, run, runSince, S, withBaselines, webhookJob } = c;
  log(`scenario 2: duplicate storm, 5 copies of each event, ${ROUNDS} rounds (load ${loadAvg()})`);
  const prefix = `evt_s2_${run}_`;
  const res = await withBaselines({ fair: 'fair-intake-baseline.js', bare: 'webhook-baseline.js' }, (b) =>
    rounds([
      {
        who: 'service',
        pid: api.child.pid,
        rss,
        job: (r) => webhookJob(api.url, `${prefix}r${r}_`, '/connect/webhooks', 5),
      },
      b.fair && {
        who: 'fair',
        pid: b.fair.child.pid,
        job: (r) => webhookJob(b.fair.url, `bevt_f2_${run}_r${r}_`, '/webhooks', 5),
      },
      b.bare && {
        who: 'bare',
        pid: b.bare.child.pid,
        job: (r) => webhookJob(b.bare.url, `bevt_b2_${run}_r${r}_`, '/webhooks', 5),
      },
    ]),
  );
  // Answers saying "new" must equal the rows stored: one per distinct event, whatever the copies did (but for
  // requests cut off in flight when a run stopped, at most one per connection).
  const perRound = [];
  for (const [r, x] of res.service.rounds.entries()) {
    const rows = (await inboxCounts(db, [`${prefix}r${r}_m%`], runSince)).total;
    perRound.push({
      rows,
      answered_new: x.stats.notDuplicate,
      answered_duplicate: x.stats.duplicate,
      ok: x.stats.notDuplicate <= rows && rows - x.stats.notDuplicate <= CONNECTIONS,
    });
  }
  S['2'] = { name: 'Duplicate storm (5x each)', prefix, ...res, answers: perRound };
}

/** Drain of everything the request scenarios queued (webhook processing, event dispatch) by a worker replica. */
async function drainRequests(c) {
  const { db, run, runSince, S, results, serviceEnv } = c;
  const patterns = [`evt_s1_${run}_%`, `evt_s2_${run}_%`];
  const d = await drainWithWorker('requests', serviceEnv, db, patterns, runSince);
  results.drain_requests = d;
  if (S['1']) {
    const c = await inboxCounts(db, [`${S['1'].prefix}%`], runSince);
    // Requests still in flight when autocannon stops may commit without their answer being counted: every
    // stored event must be settled, and no 2xx answer may lack its row.
    S['1'].check = {
      accepted: S['1'].service.accepted,
      stored: c.total,
      settled: c.settled,
      ok: c.settled === c.total && c.total >= S['1'].service.accepted,
    };
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

/** 11. A 5M-row webhook inbox: intake before and after the bulk load, then the service's own retention purge. */
async function scenario11(c) {
  const { api, rss, db, run, S, webhookJob, serviceEnv } = c;
  log(
    `scenario 11: webhook intake before and after loading ${INBOX_ROWS.toLocaleString('en-US')} inbox rows (load ${loadAvg()})`,
  );
  const since = new Date(Date.now() - 1000);
  const before = await measure(
    webhookJob(api.url, `evt_s11a_${run}_`, '/connect/webhooks'),
    rss,
    api.child.pid,
  );
  log(`  before ${fmt(before)}`);
  const load = await bulkLoadInbox(db, INBOX_ROWS);
  log(
    `  loaded in ${load.seconds} s (rows ${load.insert_s} s, indexes ${load.index_s} s, VACUUM (ANALYZE) + CHECKPOINT ${load.vacuum_s} s; load ${loadAvg()})`,
  );
  const after = await measure(
    webhookJob(api.url, `evt_s11b_${run}_`, '/connect/webhooks'),
    rss,
    api.child.pid,
  );
  log(`  after ${fmt(after)}`);
  const { rows: due } = await db.query(
    `SELECT count(*)::int AS n FROM stripe_webhook_events
      WHERE received_at < now() - make_interval(days => $1) AND payload <> '{}'::jsonb AND status NOT IN ('received', 'failed')`,
    [RETENTION_DAYS],
  );
  log(
    `  retention purge (RetentionService.purge, ${due[0].n} payloads past the ${RETENTION_DAYS}-day cutoff)`,
  );
  const purge = await runPurge({ ...serviceEnv, WORKERS_ENABLED: 'false' });
  log(`  purge ${JSON.stringify(purge)}`);
  const drain = await drainWithWorker(
    'inbox',
    serviceEnv,
    db,
    [`evt_s11a_${run}_%`, `evt_s11b_${run}_%`],
    since,
  );
  const accepted = before.warmup_ok + before.stats.ok + after.warmup_ok + after.stats.ok;
  S['11'] = {
    name: `Webhook inbox at ${INBOX_ROWS.toLocaleString('en-US')} rows`,
    before,
    after,
    load,
    purge: { ...purge, due: due[0].n },
    drain,
    check: {
      accepted,
      stored: drain.stored,
      settled: drain.settled,
      ok: drain.all_settled && drain.stored >= accepted,
    },
  };
}

module.exports = { scenario1, scenario2, drainRequests, scenario11 };

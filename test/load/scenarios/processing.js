/* eslint-disable */
// 9. Processing keeps up: a sustained intake burst on the API replica (workers off), then ONE worker replica drains
// it; its rate must match the intake's.
const { BURST_DURATION, BURST_ACCOUNTS, WEBHOOK_SECRET } = require('../lib/options');
const { log, loadAvg, loadRun } = require('../lib/procs');
const { cpuMs, pgCpuSnapshot, pgCpuSince, fmt } = require('../lib/stats');
const { drainWithWorker } = require('../lib/queue');

async function scenario9(c) {
  const { api, rss, db, run, S, serviceEnv, connectedAccount } = c;
  log(
    `scenario 9: processing keeps up, ${BURST_DURATION} s burst over ${BURST_ACCOUNTS} connected accounts (load ${loadAvg()})`,
  );
  const accounts = [];
  for (let i = 0; i < BURST_ACCOUNTS; i += 20) {
    accounts.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(20, BURST_ACCOUNTS - i) }, () => connectedAccount()),
      )),
    );
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
  const burst = await loadRun({
    url: api.url,
    kind: 'webhook-mix',
    duration: BURST_DURATION,
    params: {
      path: '/connect/webhooks',
      secret: WEBHOOK_SECRET,
      prefix,
      accounts: accounts.map((a) => a.id),
    },
  });
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
  log(
    `  accepted ${Math.round(acceptedPerS)}/s, processed ${processedPerS}/s, ratio ${S['9'].drain_ratio && S['9'].drain_ratio.toFixed(2)}; outcomes ${JSON.stringify(outcomes)}`,
  );
}

module.exports = { scenario9 };

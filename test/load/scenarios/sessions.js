/* eslint-disable */
// 13. Account Session creation (embedded components): POST /connect/accounts/{tenantId}/sessions for the bench's
// active account in the emulator, against a fair baseline doing the JWT check, the service's own component policy
// and one stripe SDK accountSessions.create against the same emulator.
const { ROUNDS } = require('../lib/options');
const { log, loadAvg } = require('../lib/procs');
const { rounds } = require('../lib/stats');

// What a platform page opens: payments with refunds, payouts, the notification banner (every feature granted to
// the platform role, so the policy walks each component's features).
const SESSION_BODY = {
  components: {
    payments: { features: { refund_management: true, dispute_management: true, capture_payments: true } },
    payouts: { features: { instant_payouts: true, standard_payouts: true } },
    notification_banner: {},
  },
};

async function scenario13(c) {
  const { api, rss, db, token, tenant, acct, S, withBaselines } = c;
  log(`scenario 13: Account Session creation, ${ROUNDS} rounds (load ${loadAvg()})`);
  const first = await fetch(`${api.url}/connect/accounts/${tenant}/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(SESSION_BODY),
  });
  if (first.status !== 201)
    throw new Error(`POST /connect/accounts/${tenant}/sessions: ${first.status} ${await first.text()}`);
  const { rows } = await db.query(
    `SELECT responsibilities->>'requirements_collector' AS rc FROM connect_accounts WHERE tenant_id = $1`,
    [tenant],
  );
  const accounts = { [tenant]: { id: acct.id, requirements_collector: rows[0] ? rows[0].rc : null } };
  const job = (url, p) => ({ url, kind: 'post', params: { path: p, body: SESSION_BODY, token } });
  const res = await withBaselines(
    {
      fair: { script: 'fair-session-baseline.js', env: { BENCH_SESSION_ACCOUNTS: JSON.stringify(accounts) } },
    },
    (b) =>
      rounds([
        {
          who: 'service',
          pid: api.child.pid,
          rss,
          job: () => job(api.url, `/connect/accounts/${tenant}/sessions`),
        },
        b.fair && {
          who: 'fair',
          pid: b.fair.child.pid,
          job: () => job(b.fair.url, `/accounts/${tenant}/sessions`),
        },
      ]),
  );
  S['13'] = { name: 'Account Session creation (embedded components)', ...res };
}

module.exports = { scenario13 };

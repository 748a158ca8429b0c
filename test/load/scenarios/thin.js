/* eslint-disable */
// 12. Thin-event intake: signed thin notifications (object "v2.core.event") posted to POST /connect/webhooks, where
// the service verifies them against its event destinations' secrets, against a fair baseline (the SDK's
// parseEventNotification + the service's one intake statement). A worker replica then settles what was accepted
// (an event id Stripe does not know settles as gone), so no later drain processes these.
const path = require('node:path');
const { ROUNDS, ROOT, ENCRYPTION_KEY } = require('../lib/options');
const { log, loadAvg } = require('../lib/procs');
const { rounds } = require('../lib/stats');
const { inboxCounts, drainWithWorker } = require('../lib/queue');

/**
 * The service's event destination, created through its own endpoint (the emulator answers the signing secret to the
 * service only), and its secret opened from event_destinations with the service's SecretBox and ENCRYPTION_KEY.
 */
async function destinationSecret(c) {
  const { api, db, token } = c;
  const res = await fetch(`${api.url}/connect/webhooks/destinations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ url: `${api.url}/connect/webhooks` }),
  });
  if (!res.ok) throw new Error(`POST /connect/webhooks/destinations: ${res.status} ${await res.text()}`);
  const { rows } = await db.query(
    'SELECT id, secret_enc FROM event_destinations WHERE secret_enc IS NOT NULL LIMIT 1',
  );
  if (!rows.length) throw new Error('the event destination has no stored secret');
  const { SecretBox, parseEncryptionKeys } = require(
    path.join(ROOT, 'dist/libs/common/src/crypto/secret-box.js'),
  );
  // The SecretBox context EventDestinationsService seals the secret under (bound to its row).
  return new SecretBox(parseEncryptionKeys([ENCRYPTION_KEY])).open(
    rows[0].secret_enc,
    `event_destinations.secret_enc:${rows[0].id}`,
  );
}

async function scenario12(c) {
  const { api, rss, db, acct, run, S, withBaselines, serviceEnv } = c;
  log(`scenario 12: thin-event intake, ${ROUNDS} rounds (load ${loadAvg()})`);
  const secret = await destinationSecret(c);
  const prefix = `evt_s12_${run}_`;
  const since = new Date(Date.now() - 1000);
  const job = (url, p, pre) => ({
    url,
    kind: 'thin',
    params: { path: p, secret, prefix: pre, account: acct.id },
  });
  const res = await withBaselines(
    { fair: { script: 'fair-thin-intake-baseline.js', env: { BENCH_THIN_SECRET: secret } } },
    (b) =>
      rounds([
        {
          who: 'service',
          pid: api.child.pid,
          rss,
          job: (r) => job(api.url, '/connect/webhooks', `${prefix}r${r}_`),
        },
        b.fair && {
          who: 'fair',
          pid: b.fair.child.pid,
          job: (r) => job(b.fair.url, '/webhooks', `bevt_t12_${run}_r${r}_`),
        },
      ]),
  );
  const drain = await drainWithWorker('thin', serviceEnv, db, [`${prefix}%`], since);
  const counts = await inboxCounts(db, [`${prefix}%`], since);
  const { rows: outcomes } = await db.query(
    `SELECT status::text, outcome, count(*)::int AS n FROM stripe_webhook_events
      WHERE received_at >= $2 AND stripe_event_id LIKE $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [`${prefix}%`, since],
  );
  S['12'] = {
    name: 'Thin-event intake (event destination)',
    ...res,
    drain,
    outcomes,
    check: {
      accepted: res.service.accepted,
      stored: counts.total,
      settled: counts.settled,
      ok: counts.settled === counts.total && counts.total >= res.service.accepted,
    },
  };
  log(
    `  stored ${counts.total} for ${res.service.accepted} 2xx answers, settled ${counts.settled}; outcomes ${JSON.stringify(outcomes)}`,
  );
}

module.exports = { scenario12 };

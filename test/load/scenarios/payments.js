/* eslint-disable */
// 3. Payment creation, JWT + unique Idempotency-Key, through to the emulator, against its fair and bare baselines.
const { ROUNDS } = require('../lib/options');
const { log, loadAvg } = require('../lib/procs');
const { rounds } = require('../lib/stats');

async function scenario3(c) {
  const { api, rss, token, tenant, acct, S, withBaselines } = c;
  log(`scenario 3: payment creation, ${ROUNDS} rounds (load ${loadAvg()})`);
  const res = await withBaselines({ fair: 'fair-payment-baseline.js', bare: 'payment-baseline.js' }, (b) =>
    rounds([
      {
        who: 'service',
        pid: api.child.pid,
        rss,
        job: () => ({ url: api.url, kind: 'payment', params: { path: '/connect/payments', token, tenant } }),
      },
      b.fair && {
        who: 'fair',
        pid: b.fair.child.pid,
        job: () => ({
          url: b.fair.url,
          kind: 'payment',
          params: { path: '/payments', tenant, stripeAccount: acct.id, token },
        }),
      },
      b.bare && {
        who: 'bare',
        pid: b.bare.child.pid,
        job: () => ({
          url: b.bare.url,
          kind: 'payment',
          params: { path: '/payments', tenant, stripeAccount: acct.id },
        }),
      },
    ]),
  );
  S['3'] = { name: 'Payment creation (JWT, Idempotency-Key, emulator)', ...res };
}

module.exports = { scenario3 };

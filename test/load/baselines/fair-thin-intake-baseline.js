/* eslint-disable */
// Fair baseline for thin-event intake (scenario 12): the work the service cannot skip and nothing else. Fastify
// (logger off) verifies the notification with the SDK's parseEventNotification (what Stripe's SDK does for thin
// events) against the event destination's secret, then ONE statement stores the inbox row in the service's own
// table with its pg-boss job (the service's intake statement, as in scenario 1's fair baseline), keyed on the
// account its context names. The job goes to a queue of its own that no worker serves.
const Stripe = require('stripe');
const { serveIntake } = require('./intake-common');

const stripe = new Stripe('sk_test_bench');
const secret = process.env.BENCH_THIN_SECRET;

serveIntake((raw, signature) => {
  const n = stripe.parseEventNotification(raw, signature, secret);
  const account =
    (n.context &&
      String(n.context)
        .split('/')
        .reverse()
        .find((s) => s.startsWith('acct_'))) ||
    (n.related_object && String(n.related_object.id).startsWith('acct_') ? n.related_object.id : null);
  const created = Math.floor(
    (typeof n.created === 'string' ? Date.parse(n.created) : Number(n.created)) / 1000,
  );
  return { id: n.id, type: n.type, account, livemode: n.livemode, api_version: null, created };
}).catch((e) => {
  console.error(e);
  process.exit(1);
});

/* eslint-disable */
// Fair baseline for webhook intake (scenarios 1 and 2): the work the service cannot skip and nothing else. Fastify
// (logger off) verifies the signature with the SDK, then ONE statement stores the inbox row in the service's own
// table and its pg-boss job (the service's intake SQL, copied), so PostgreSQL maintains the same indexes and job
// partition. The job goes to a queue of its own that no worker serves, so the service never processes these rows.
const Stripe = require('stripe');
const { serveIntake } = require('./intake-common');

const stripe = new Stripe('sk_test_bench');
const secret = process.env.STRIPE_WEBHOOK_SECRET;

serveIntake((raw, signature) => stripe.webhooks.constructEvent(raw, signature, secret)).catch((e) => {
  console.error(e);
  process.exit(1);
});

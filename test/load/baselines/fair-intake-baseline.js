/* eslint-disable */
// Fair baseline for webhook intake (scenarios 1 and 2): the work the service cannot skip and nothing else. Fastify
// (logger off) verifies the signature with the SDK, then ONE statement stores the inbox row in the service's own
// table and its pg-boss job (the service's intake SQL, copied), so PostgreSQL maintains the same indexes and job
// partition. The job goes to a queue of its own that no worker serves, so the service never processes these rows.
const Fastify = require('fastify');
const { Pool } = require('pg');
const Stripe = require('stripe');
const { serve, poolSize } = require('./child-util');
const { ACCEPT_SQL, createBaselineQueue } = require('./intake-sql');

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  await createBaselineQueue(pool);
  const stripe = new Stripe('sk_test_bench');
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => done(null, body));
  app.post('/webhooks', async (req, reply) => {
    let event;
    try {
      event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret);
    } catch {
      return reply.code(400).send({ error: 'bad signature' });
    }
    const { rows } = await pool.query(ACCEPT_SQL, [
      event.id,
      event.type,
      event.account ?? null,
      event.livemode,
      event.api_version ?? null,
      event.created,
      req.body.toString('utf8'),
      'received',
      null,
      'webhook',
      '{}',
    ]);
    return { received: true, duplicate: rows.length === 0 };
  });
  await serve(app, () => pool.end());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

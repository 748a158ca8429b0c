/* eslint-disable */
// Fair baseline for thin-event intake (scenario 12): the work the service cannot skip and nothing else. Fastify
// (logger off) verifies the notification with the SDK's parseEventNotification (what Stripe's SDK does for thin
// events) against the event destination's secret, then ONE statement stores the inbox row in the service's own
// table with its pg-boss job (the service's intake statement, as in scenario 1's fair baseline), keyed on the
// account its context names. The job goes to a queue of its own that no worker serves.
const Fastify = require('fastify');
const { Pool } = require('pg');
const Stripe = require('stripe');
const { serve, poolSize } = require('./child-util');
const { ACCEPT_SQL, createBaselineQueue } = require('./intake-sql');

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  await createBaselineQueue(pool);
  const stripe = new Stripe('sk_test_bench');
  const secret = process.env.BENCH_THIN_SECRET;
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => done(null, body));
  app.post('/webhooks', async (req, reply) => {
    let n;
    try {
      n = stripe.parseEventNotification(req.body, req.headers['stripe-signature'], secret);
    } catch {
      return reply.code(400).send({ error: 'bad signature' });
    }
    const account =
      (n.context &&
        String(n.context)
          .split('/')
          .reverse()
          .find((s) => s.startsWith('acct_'))) ||
      (n.related_object && n.related_object.id && n.related_object.id.startsWith('acct_')
        ? n.related_object.id
        : null);
    const created =
      typeof n.created === 'string'
        ? Math.floor(Date.parse(n.created) / 1000)
        : Math.floor(Number(n.created) / 1000);
    const { rows } = await pool.query(ACCEPT_SQL, [
      n.id,
      n.type,
      account,
      n.livemode,
      null,
      created,
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

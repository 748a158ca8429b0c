/* eslint-disable */
// Baseline for scenarios 1-2: Fastify + stripe.webhooks.constructEvent + one INSERT ... ON CONFLICT DO NOTHING.
// The essential work of webhook intake and nothing else (no job, no framework, no logging).
const Fastify = require('fastify');
const { Pool } = require('pg');
const Stripe = require('stripe');
const { serve, poolSize } = require('./child-util');

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_baseline_events (stripe_event_id text PRIMARY KEY, type text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
  );
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
    const res = await pool.query(
      'INSERT INTO bench_baseline_events (stripe_event_id, type, payload) VALUES ($1, $2, $3::jsonb) ON CONFLICT (stripe_event_id) DO NOTHING',
      [event.id, event.type, req.body.toString('utf8')],
    );
    return { received: true, duplicate: res.rowCount === 0 };
  });
  await serve(app, () => pool.end());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/* eslint-disable */
// Baseline for scenario 3: Fastify that creates the PaymentIntent through the SDK against the emulator (same
// parameters, Stripe-Account and idempotency key as the service sends) and inserts one row.
const { randomUUID } = require('node:crypto');
const Fastify = require('fastify');
const { Pool } = require('pg');
const { serve, poolSize, emulatorStripe } = require('./child-util');

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_baseline_payments (id uuid PRIMARY KEY, tenant_id text NOT NULL, payment_intent_id text NOT NULL, amount integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );
  const stripe = emulatorStripe();
  const app = Fastify({ logger: false });
  app.post('/payments', async (req, reply) => {
    const { tenant_id, stripe_account, payment_data } = req.body;
    const id = randomUUID();
    const pi = await stripe.paymentIntents.create(
      {
        amount: payment_data.amount,
        currency: payment_data.currency,
        application_fee_amount: 59,
        metadata: { payment_route_id: id, tenant_id },
        payment_method: payment_data.payment_method,
        confirm: true,
      },
      { stripeAccount: stripe_account, idempotencyKey: `route:${id}:create` },
    );
    await pool.query(
      'INSERT INTO bench_baseline_payments (id, tenant_id, payment_intent_id, amount) VALUES ($1, $2, $3, $4)',
      [id, tenant_id, pi.id, pi.amount],
    );
    reply.code(201);
    return { id, payment_intent: { id: pi.id, status: pi.status } };
  });
  await serve(app, () => pool.end());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

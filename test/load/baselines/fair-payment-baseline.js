/* eslint-disable */
// Fair baseline for payment creation (scenario 3): the work the service cannot skip and nothing else, in the fewest
// round trips. Fastify (logger off) verifies the bearer JWT; ONE statement (a writable CTE is one implicit
// transaction) claims the Idempotency-Key, inserts the pending route and its outbox event into the service's own
// tables (same indexes and triggers); the SDK creates the PaymentIntent (same parameters, Stripe-Account and
// idempotency key as the bare baseline); ONE UPDATE records the result on the route.
const { createHash, randomUUID } = require('node:crypto');
const Fastify = require('fastify');
const { Pool } = require('pg');
const { serve, poolSize, bearerVerifier, emulatorStripe } = require('./child-util');

const FEE = 59;

const CREATE_SQL = `WITH idem AS (
    INSERT INTO idempotency_records (tenant_id, scope, key, request_hash, state, expires_at)
    VALUES ($5, $1, $2, $3, 'in_progress', now() + interval '24 hours')
    ON CONFLICT (scope, key, tenant_id) DO NOTHING
    RETURNING id),
  route AS (
    INSERT INTO payment_routes (id, tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
      stripe_idempotency_key, metadata, stripe_details)
    SELECT $4::uuid, $5, $6, 'payment', 'pending', 'direct', $7::int, $8::int, $9, $10, '{}'::jsonb, '{}'::jsonb FROM idem
    RETURNING id),
  event AS (
    INSERT INTO connect_events (id, type, tenant_id, data)
    SELECT $11::uuid, 'connect.payment.routed', $5, $12::jsonb FROM route
    RETURNING id)
  SELECT id FROM route`;

// The service writes the charge too (stripe_object_id, a unique index) and bumps version/updated_at like TypeORM.
const RECORD_SQL = `UPDATE payment_routes SET stripe_payment_intent_id = $2, status = $3, stripe_status = $4,
  stripe_object_id = $5, updated_at = now(), version = version + 1 WHERE id = $1`;

// The service's routeStatusOf: a confirmed PaymentIntent stays pending until its webhook completes the route.
const routeStatusOf = (pi) =>
  ({ requires_action: 'requires_action', processing: 'processing', canceled: 'canceled' })[pi.status] ??
  'pending';

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  const verify = bearerVerifier(process.env.JWT_SECRET);
  const stripe = emulatorStripe();
  const app = Fastify({ logger: false });
  app.post('/payments', async (req, reply) => {
    const claims = verify(req);
    if (!claims) return reply.code(401).send({ error: 'unauthorized' });
    const key = req.headers['idempotency-key'];
    const { tenant_id, stripe_account, payment_data } = req.body;
    const id = randomUUID();
    const hash = createHash('sha256')
      .update(`POST /payments\n${JSON.stringify(req.body)}`)
      .digest('hex');
    const data = {
      payment_route_id: id,
      type: 'payment',
      status: 'pending',
      amount: payment_data.amount,
      fee: FEE,
      currency: payment_data.currency,
      charge_type: 'direct',
      stripe_account_id: stripe_account,
    };
    const created = await pool.query(CREATE_SQL, [
      `${claims.sub}|${tenant_id}`,
      key,
      hash,
      id,
      tenant_id,
      stripe_account,
      payment_data.amount,
      FEE,
      payment_data.currency,
      `route:${id}:create`,
      randomUUID(),
      JSON.stringify(data),
    ]);
    if (!created.rows.length) return reply.code(409).send({ error: 'idempotency key in use' });
    const pi = await stripe.paymentIntents.create(
      {
        amount: payment_data.amount,
        currency: payment_data.currency,
        application_fee_amount: FEE,
        metadata: { payment_route_id: id, tenant_id },
        payment_method: payment_data.payment_method,
        confirm: true,
      },
      { stripeAccount: stripe_account, idempotencyKey: `route:${id}:create` },
    );
    const charge = typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);
    await pool.query(RECORD_SQL, [id, pi.id, routeStatusOf(pi), pi.status, charge]);
    reply.code(201);
    return { id, status: routeStatusOf(pi), payment_intent: { id: pi.id, status: pi.status } };
  });
  await serve(app, () => pool.end());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

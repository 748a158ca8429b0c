/* eslint-disable */
// Fair baseline for webhook intake (scenarios 1 and 2): the work the service cannot skip and nothing else. Fastify
// (logger off) verifies the signature with the SDK, then ONE statement stores the inbox row in the service's own
// table and its pg-boss job (the service's intake SQL, copied), so PostgreSQL maintains the same indexes and job
// partition. The job goes to a queue of its own that no worker serves, so the service never processes these rows.
const Fastify = require('fastify');
const { Pool } = require('pg');
const PgBoss = require('pg-boss');
const Stripe = require('stripe');
const { serve, poolSize } = require('./child-util');

const SCHEMA = 'pgboss';
const QUEUE = 'bench-baseline.webhook';

// INSERT_SQL of the service's webhook inbox plus JobQueue.insertJobsFromSql for one queue, as one writable CTE.
const ACCEPT_SQL = `WITH inbox AS (INSERT INTO stripe_webhook_events
  (stripe_event_id, type, stripe_account_id, livemode, api_version, event_created, payload, status, outcome, source)
  VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
  ON CONFLICT (stripe_event_id) DO NOTHING
  RETURNING id),
  job AS (INSERT INTO ${SCHEMA}.job (name, data, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
    SELECT q.name, jsonb_build_object('inboxId', inbox.id) || $11::jsonb, q.dead_letter,
      COALESCE(q.expire_seconds, 900) * interval '1s',
      now() + COALESCE(q.retention_minutes * interval '1 minute', interval '14 days'),
      COALESCE(q.retry_limit, 2),
      CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(COALESCE(q.retry_delay, 0), 1) ELSE COALESCE(q.retry_delay, 0) END,
      COALESCE(q.retry_backoff, false),
      q.policy
    FROM inbox JOIN ${SCHEMA}.queue q ON q.name = '${QUEUE}'
    RETURNING id)
  SELECT id FROM inbox`;

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  // The same queue settings the service gives webhooks.process-stripe-event (JobQueue.define), on the service's schema.
  const boss = new PgBoss({ db: { executeSql: (text, values) => pool.query(text, values) }, schema: SCHEMA });
  const dead = `${QUEUE}.dead`;
  await boss.createQueue(dead, { name: dead, retentionDays: 14 });
  await boss.createQueue(QUEUE, {
    name: QUEUE,
    retryLimit: 8,
    retryDelay: 2,
    retryBackoff: true,
    expireInSeconds: 300,
    deadLetter: dead,
  });
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

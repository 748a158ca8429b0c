/* eslint-disable */
// What the fair intake baselines (v1 events, thin events) share: the service's intake statement (the inbox INSERT and
// its pg-boss job in one writable CTE) on a queue of the baselines' own with the service's queue settings, served by
// Fastify (logger off) on the raw body after a verification of their own.
const Fastify = require('fastify');
const { Pool } = require('pg');
const PgBoss = require('pg-boss');
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

/** Creates the baselines' queue (and its dead letter) with the options the service gives webhooks.process-stripe-event. */
async function createBaselineQueue(pool) {
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
}

/**
 * POST /webhooks: `verify(raw, signatureHeader)` answers the row's fields ({id, type, account, livemode, api_version,
 * created}) or throws (400); then ONE statement stores the row and its job.
 */
async function serveIntake(verify) {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: poolSize() });
  await createBaselineQueue(pool);
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => done(null, body));
  app.post('/webhooks', async (req, reply) => {
    let e;
    try {
      e = verify(req.body, req.headers['stripe-signature']);
    } catch {
      return reply.code(400).send({ error: 'bad signature' });
    }
    const { rows } = await pool.query(ACCEPT_SQL, [
      e.id,
      e.type,
      e.account ?? null,
      e.livemode,
      e.api_version ?? null,
      e.created,
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

module.exports = { serveIntake };

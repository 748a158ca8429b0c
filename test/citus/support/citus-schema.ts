import { DataSource } from 'typeorm';

/** The tables whose rows a migration must carry over, counted. */
const COUNTED = [
  'connect_accounts',
  'payment_routes',
  'connect_events',
  'event_subscriptions',
  'event_deliveries',
  'event_delivery_attempts',
  'idempotency_records',
  'stripe_webhook_events',
  'audit_log',
  'analytics_rollups_hourly',
  'analytics_platform_rollups_daily',
];

export async function tableCounts(ds: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of COUNTED) {
    const [r] = (await ds.query(`SELECT count(*)::int AS n FROM "${t}"`)) as Array<{ n: number }>;
    out[t] = r.n;
  }
  return out;
}

/** Rows in every tenant table, written with the statements of the schema before sharding (ids only, no tenant). */
export async function seedSingleNode(ds: DataSource, tenants = 3, perTenant = 4): Promise<void> {
  const sub = (await ds.query(
    `INSERT INTO event_subscriptions (tenant_id, url, event_types, secret_enc) VALUES (NULL, 'https://r.example/h', '{*}', 'v1.x') RETURNING id`,
  )) as Array<{ id: string }>;
  for (let t = 0; t < tenants; t++) {
    const tenant = `tenant_${t}`;
    await ds.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, onboarding_method, account_type) VALUES ($1, $2, 'oauth', 'standard')`,
      [tenant, `acct_${t}`],
    );
    for (let i = 0; i < perTenant; i++) {
      await ds.query(
        `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency, stripe_idempotency_key, stripe_payment_intent_id)
         VALUES ($1, $2, 'payment', $3, 'direct', $4, 30, 'usd', $5, $6)`,
        [
          tenant,
          `acct_${t}`,
          i % 2 ? 'completed' : 'pending',
          1000 + i * 100 + t,
          `k-${t}-${i}`,
          `pi_${t}_${i}`,
        ],
      );
      const ev = (await ds.query(
        `INSERT INTO connect_events (type, tenant_id, data) VALUES ('payment.succeeded', $1, '{}') RETURNING id`,
        [tenant],
      )) as Array<{ id: string }>;
      const del = (await ds.query(
        `INSERT INTO event_deliveries (event_id, subscription_id, tenant_id) VALUES ($1, $2, $3) RETURNING id`,
        [ev[0].id, sub[0].id, tenant],
      )) as Array<{ id: string }>;
      await ds.query(
        `INSERT INTO event_delivery_attempts (delivery_id, attempt_no, status_code, duration_ms) VALUES ($1, 1, 200, 5)`,
        [del[0].id],
      );
      await ds.query(
        `INSERT INTO idempotency_records (scope, key, request_hash, expires_at) VALUES ($1, $2, repeat('a', 64), now() + interval '1 day')`,
        [`sub_1|${tenant}`, `key-${i}`],
      );
      await ds.query(
        `INSERT INTO stripe_webhook_events (stripe_event_id, type, stripe_account_id, tenant_id, livemode, event_created, payload)
         VALUES ($1, 'payment_intent.succeeded', $2, $3, false, 1, '{}')`,
        [`evt_${t}_${i}`, `acct_${t}`, i === 0 ? null : tenant],
      );
      await ds.query(
        `INSERT INTO audit_log (actor_type, tenant_id, action, outcome) VALUES ('system', $1, 'payment.create', 'success')`,
        [i === 0 ? null : tenant],
      );
    }
  }
  await ds.query(`SELECT analytics_fold(1000000)`);
}

/**
 * The hot statements in the shape the service sends them for a known tenant (values inlined: EXPLAIN of a
 * parameterised statement needs a prepared one).
 */
export const HOT_STATEMENTS: Record<string, string> = {
  'payment insert': `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, amount, currency, stripe_idempotency_key)
    VALUES ('tenant_1', 'acct_1', 'payment', 1200, 'usd', 'k-explain')`,
  'payment read': `SELECT * FROM payment_routes WHERE tenant_id = 'tenant_1' AND id = '00000000-0000-0000-0000-000000000001'`,
  'payment update': `UPDATE payment_routes SET status = 'completed', version = version + 1
    WHERE tenant_id = 'tenant_1' AND id = '00000000-0000-0000-0000-000000000001'`,
  'payment lock': `SELECT id FROM payment_routes WHERE tenant_id = 'tenant_1' AND id = '00000000-0000-0000-0000-000000000001' FOR UPDATE`,
  'payment list': `SELECT * FROM payment_routes WHERE tenant_id = 'tenant_1' ORDER BY created_at DESC, id DESC LIMIT 21`,
  'account read': `SELECT * FROM connect_accounts WHERE tenant_id = 'tenant_1'`,
  'account lock (reference table)': `SELECT * FROM connect_accounts WHERE tenant_id = 'tenant_1' FOR UPDATE`,
  'api key lock (reference table)': `SELECT * FROM api_keys WHERE id = '00000000-0000-0000-0000-000000000006' FOR UPDATE`,
  'webhook inbox insert': `INSERT INTO stripe_webhook_events (stripe_event_id, type, stripe_account_id, livemode, event_created, payload)
    VALUES ('evt_explain', 'payment_intent.succeeded', 'acct_1', false, 1, '{}') ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id`,
  'webhook inbox read': `SELECT * FROM stripe_webhook_events WHERE stripe_event_id = 'evt_explain'`,
  'event insert': `INSERT INTO connect_events (type, tenant_id, data) VALUES ('payment.succeeded', 'tenant_1', '{}') RETURNING id`,
  'event delivery insert': `INSERT INTO event_deliveries (event_id, subscription_id, tenant_id)
    VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000003', 'tenant_1')
    ON CONFLICT (event_id, subscription_id, tenant_id) DO NOTHING`,
  'idempotency claim': `INSERT INTO idempotency_records (tenant_id, scope, key, request_hash, state, expires_at)
    VALUES ('tenant_1', 'sub_1|tenant_1', 'k1', repeat('a', 64), 'in_progress', '2030-01-01T00:00:00Z')
    ON CONFLICT (scope, key, tenant_id) DO UPDATE SET state = 'in_progress', expires_at = EXCLUDED.expires_at
    WHERE idempotency_records.expires_at < '2026-01-01T00:00:00Z'::timestamptz RETURNING id`,
  'idempotency read': `SELECT id, state FROM idempotency_records WHERE tenant_id = 'tenant_1' AND scope = 'sub_1|tenant_1' AND key = 'k1'`,
  'payment first record (xmin-guarded)': `UPDATE payment_routes SET stripe_payment_intent_id = 'pi_1', status = 'completed',
    version = version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = '00000000-0000-0000-0000-000000000001' AND tenant_id = 'tenant_1' AND xmin = '1'::xid RETURNING id`,
  'payment attempt append': `UPDATE payment_routes SET attempts = attempts || '[{}]'::jsonb
    WHERE id = '00000000-0000-0000-0000-000000000001' AND tenant_id = 'tenant_1'`,
  'refunded sum': `SELECT COALESCE(SUM(amount), 0)::bigint FROM payment_routes
    WHERE parent_id = '00000000-0000-0000-0000-000000000001' AND tenant_id = 'tenant_1' AND type = 'refund'`,
  'webhook batch read': `SELECT id, type, status FROM stripe_webhook_events
    WHERE id = ANY(ARRAY['00000000-0000-0000-0000-000000000004']::uuid[]) AND stripe_event_id = ANY(ARRAY['evt_explain'])`,
  'webhook inbox lock': `SELECT status, processed_at, received_at, tenant_id FROM stripe_webhook_events
    WHERE id = '00000000-0000-0000-0000-000000000004' AND stripe_event_id = 'evt_explain' FOR UPDATE`,
  'webhook inbox finish': `UPDATE stripe_webhook_events SET status = 'processed', outcome = 'applied', tenant_id = 'tenant_1',
    attempts = attempts + 1, last_error = NULL, processed_at = now()
    WHERE id = '00000000-0000-0000-0000-000000000004' AND stripe_event_id = 'evt_explain'`,
  'event delivery read': `SELECT d.id, s.url, e.type FROM event_deliveries d
    JOIN event_subscriptions s ON s.id = d.subscription_id
    JOIN connect_events e ON e.id = d.event_id AND e.tenant_id = d.tenant_id
    WHERE d.id = '00000000-0000-0000-0000-000000000005' AND d.tenant_id = 'tenant_1'`,
  'event delivery lock': `SELECT attempts, round, status FROM event_deliveries
    WHERE id = '00000000-0000-0000-0000-000000000005' AND tenant_id = 'tenant_1' FOR UPDATE`,
  'event delivery update': `UPDATE event_deliveries SET status = 'succeeded', attempts = 1, delivered_at = now()
    WHERE id = '00000000-0000-0000-0000-000000000005' AND tenant_id = 'tenant_1'`,
  'reconciliation routes page': `SELECT r.id FROM payment_routes r WHERE r.tenant_id = 'tenant_1'
    AND r.created_at >= '2026-01-01' AND r.created_at < '2026-02-01' ORDER BY r.id LIMIT 100`,
  'audit insert': `INSERT INTO audit_log (actor_type, tenant_id, action, outcome) VALUES ('system', 'tenant_1', 'payment.create', 'success')`,
};

/**
 * Statements that ask every shard by design (docs/sharding.md, Status): Citus must accept them as they are sent.
 */
export const FAN_OUT_STATEMENTS: Record<string, string> = {
  'webhook settle (Citus form)': `WITH input AS (
      SELECT i.*, now() AS at FROM unnest(ARRAY['00000000-0000-0000-0000-000000000004']::uuid[], ARRAY['evt_explain'],
        ARRAY['ignored']::stripe_webhook_event_status[], ARRAY['no_handler'], ARRAY['tenant_1'], ARRAY[true])
        AS i(id, stripe_event_id, status, outcome, tenant_id, stamp))
    UPDATE stripe_webhook_events e SET status = i.status, outcome = i.outcome, tenant_id = i.tenant_id,
      attempts = e.attempts + 1, last_error = NULL,
      processed_at = CASE WHEN i.stamp THEN COALESCE(e.processed_at, i.at) ELSE e.processed_at END
    FROM input i WHERE e.id = i.id AND e.stripe_event_id = i.stripe_event_id
      AND e.status NOT IN ('processed', 'ignored', 'unmatched')
    RETURNING e.type, e.outcome`,
  'split transfers cancel': `UPDATE payment_routes SET status = 'canceled'
    WHERE parent_id = '00000000-0000-0000-0000-000000000001' AND type = 'transfer' AND stripe_object_id IS NULL`,
  'tenant of a route by id': `SELECT tenant_id FROM payment_routes WHERE id = '00000000-0000-0000-0000-000000000001' LIMIT 1`,
  'dispute reminders claim': `UPDATE disputes SET reminders_sent = reminders_sent || to_jsonb(24), updated_at = now()
    WHERE status IN ('needs_response', 'warning_needs_response') AND NOT evidence_submitted
      AND evidence_due_by > now() AND evidence_due_by <= now() + make_interval(hours => 24)
      AND NOT reminders_sent @> to_jsonb(24) RETURNING *`,
  're-encryption batch (unlocked)': `SELECT id::text AS id, NULL AS tenant_id, response_body_enc AS sealed
    FROM idempotency_records WHERE response_body_enc IS NOT NULL AND split_part(response_body_enc, '.', 2) <> 'k2'
      AND id > '00000000-0000-0000-0000-000000000000' ORDER BY id LIMIT 100`,
};

/** Citus's task count for a statement, from EXPLAIN (run in a transaction rolled back: EXPLAIN alone does not write). */
export async function taskCount(ds: DataSource, statement: string): Promise<number> {
  const plan = (await ds.query(`EXPLAIN ${statement}`)) as Array<{ 'QUERY PLAN': string }>;
  const text = plan.map((r) => r['QUERY PLAN']).join('\n');
  const m = /Task Count: (\d+)/.exec(text);
  if (!m) throw new Error(`no Citus plan for: ${statement}\n${text}`);
  return Number(m[1]);
}

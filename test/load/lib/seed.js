/* eslint-disable */
// Rows the scale scenarios load set-based: accounts with routes (5), a multi-million-row webhook inbox (11).
const { RETENTION_DAYS, PURGE_BACKLOG_DAYS } = require('./options');

/** `tenants` active accounts named <prefix><n>, each with `perTenant` payment routes, in two set-based INSERTs. */
async function seedAccounts(db, prefix, tenants, perTenant) {
  await db.query('BEGIN');
  // Triggers off for this seed only: the analytics trigger would queue a delta per seeded route, and the first
  // worker replica would then fold 1M of them inside the drain it is timing.
  await db.query('SET LOCAL session_replication_role = replica');
  await db.query(
    `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
     SELECT $1 || i, 'acct_' || $1 || i, 'active', 'account_link', 'express', true, true, true FROM generate_series(1, $2::int) i`,
    [prefix, tenants],
  );
  await db.query(
    `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
       stripe_payment_intent_id, stripe_idempotency_key, metadata, created_at)
     SELECT $1 || t, 'acct_' || $1 || t, 'payment',
            (ARRAY['pending','completed','completed','failed']::payment_route_status[])[1 + i % 4],
            'direct', 1000 + i % 9000, 59, 'usd', 'pi_' || $1 || i, 'route:' || $1 || i || ':create', '{}'::jsonb,
            now() - (i || ' seconds')::interval
       FROM generate_series(1, $2::int * $3::int) i, LATERAL (SELECT 1 + i % $2::int AS t) tt`,
    [prefix, tenants, perTenant],
  );
  await db.query('COMMIT');
}

/**
 * Loads `n` settled rows into stripe_webhook_events as fast as PostgreSQL takes them: the table's indexes and
 * constraints are dropped, the rows inserted by one INSERT ... SELECT generate_series, and every index rebuilt from
 * its own definition (checked identical afterwards), then VACUUM (ANALYZE) and CHECKPOINT. received_at spreads over
 * 60 days; rows more than PURGE_BACKLOG_DAYS past the retention cutoff are already purged ('{}' payload), as the
 * daily job leaves them, so the purge that follows finds what is due since its last run.
 */
async function bulkLoadInbox(db, n) {
  const t0 = Date.now();
  const { rows: before } = await db.query(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def, c.conname, pg_get_constraintdef(c.oid) AS condef
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
      WHERE i.indrelid = 'stripe_webhook_events'::regclass ORDER BY 1`,
  );
  for (const ix of before) {
    if (ix.conname) await db.query(`ALTER TABLE stripe_webhook_events DROP CONSTRAINT "${ix.conname}"`);
    else await db.query(`DROP INDEX "${ix.name}"`);
  }
  await db.query(
    `INSERT INTO stripe_webhook_events (stripe_event_id, type, stripe_account_id, tenant_id, livemode, api_version,
       event_created, payload, status, outcome, attempts, source, received_at, processed_at)
     SELECT 'hevt_' || i, t, 'acct_hist_' || (i % 5000), 'tenant_hist_' || (i % 5000), false, '2026-10-28.endive', c,
       CASE WHEN ts < now() - make_interval(days => $2::int + $3::int) THEN '{}'::jsonb ELSE
         ('{"id":"hevt_' || i || '","object":"event","type":"' || t || '","account":"acct_hist_' || (i % 5000) ||
          '","api_version":"2026-10-28.endive","created":' || c || ',"livemode":false,"pending_webhooks":1,' ||
          '"data":{"object":{"id":"cus_h' || i || '","object":"customer","name":"Customer ' || i || '","metadata":{}}}}')::jsonb END,
       CASE WHEN i % 2 = 0 THEN 'processed' ELSE 'ignored' END::stripe_webhook_event_status,
       CASE WHEN i % 2 = 0 THEN 'applied' ELSE 'no_handler' END, 1, 'webhook', ts, ts + interval '1 second'
     FROM (SELECT i, now() - interval '1 hour' - interval '60 days' + i * (interval '60 days' / $1::int) AS ts,
                  CASE WHEN i % 2 = 0 THEN 'account.updated' ELSE 'customer.created' END AS t
             FROM generate_series(1, $1::int) i) g,
          LATERAL (SELECT extract(epoch FROM g.ts)::bigint AS c) cc`,
    [n, RETENTION_DAYS, PURGE_BACKLOG_DAYS],
  );
  const t1 = Date.now();
  await db.query(`SET maintenance_work_mem = '256MB'`);
  for (const ix of before) {
    if (ix.conname)
      await db.query(`ALTER TABLE stripe_webhook_events ADD CONSTRAINT "${ix.conname}" ${ix.condef}`);
    else await db.query(ix.def);
  }
  await db.query('RESET maintenance_work_mem');
  const { rows: after } = await db.query(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = 'stripe_webhook_events'::regclass ORDER BY 1`,
  );
  const same =
    JSON.stringify(after.map((x) => [x.name, x.def])) === JSON.stringify(before.map((x) => [x.name, x.def]));
  if (!same)
    throw new Error(
      `stripe_webhook_events indexes differ after the bulk load: ${JSON.stringify({ before, after })}`,
    );
  const t2 = Date.now();
  await db.query('VACUUM (ANALYZE) stripe_webhook_events');
  await db.query('CHECKPOINT');
  const t3 = Date.now();
  const { rows: size } = await db.query(`SELECT pg_total_relation_size('stripe_webhook_events') AS bytes`);
  return {
    rows: n,
    seconds: Math.round((t3 - t0) / 1000),
    insert_s: Math.round((t1 - t0) / 1000),
    index_s: Math.round((t2 - t1) / 1000),
    vacuum_s: Math.round((t3 - t2) / 1000),
    table_mb: Math.round(Number(size[0].bytes) / 2 ** 20),
  };
}

/**
 * `n` active JWT revocations of other tokens (ids of other tokens, other subjects, other tenants), their created_at
 * spread over the last hour as a platform revoking sessions now and then leaves them: the service (and scenario 4's
 * revocation baseline) hold them all in memory and re-read only the newest each sync. None covers the bench's token.
 */
async function seedRevocations(db, n) {
  if (n <= 0) return 0;
  await db.query(
    `INSERT INTO auth_revocations (tenant_id, kind, value, issued_before, expires_at, reason, created_by, created_at)
     SELECT CASE k WHEN 'tenant' THEN 'tenant_revoked_' || i WHEN 'sub' THEN (CASE WHEN i % 2 = 0 THEN '' ELSE 'tenant_bench' END) ELSE '' END,
            k, CASE k WHEN 'tenant' THEN NULL ELSE 'bench-revoked-' || k || '-' || i END,
            CASE WHEN k IN ('sub', 'tenant') THEN now() - interval '1 minute' END,
            now() + interval '2 hours', 'bench', 'bench', now() - make_interval(secs => 3600.0 * i / $1::int)
       FROM generate_series(1, $1::int) i,
            LATERAL (SELECT (ARRAY['jti', 'jti', 'sid', 'sub', 'tenant'])[1 + i % 5] AS k) kk`,
    [n],
  );
  return n;
}
module.exports = { seedAccounts, bulkLoadInbox, seedRevocations };

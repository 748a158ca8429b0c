import { MigrationInterface, QueryRunner } from 'typeorm';

/** The rollup counters, in table order (frozen here: a later change of metrics is a new migration). */
const METRICS = [
  'payments_attempted',
  'payments_succeeded',
  'payments_failed',
  'payments_declined',
  'gross_volume',
  'fees_collected',
  'fees_refunded',
  'refunds_count',
  'refunds_amount',
  'disputes_count',
  'disputes_amount',
  'transfer_volume',
];
const SHARED = ['bucket_start', 'currency', 'charge_type', 'type', 'routing_rule'];
const TENANT = [...SHARED, 'tenant_id', 'stripe_account_id'];
const DIMS = ['tenant_id', 'stripe_account_id', 'currency', 'charge_type', 'type', 'routing_rule'];

const COUNTER_COLUMNS = METRICS.map((m) => `"${m}" bigint NOT NULL DEFAULT '0'`).join(', ');
const SHARED_COLUMNS = `"bucket_start" TIMESTAMP WITH TIME ZONE NOT NULL, "currency" character(3) NOT NULL, "charge_type" character varying(16) NOT NULL, "type" character varying(16) NOT NULL, "routing_rule" character varying(200) NOT NULL`;
const TENANT_COLUMNS = `"tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL`;

/** The four rollups: tenant (full key) and platform (no tenant, no account), hourly and daily. */
const ROLLUPS = [
  { table: 'analytics_rollups_hourly', pk: 'PK_4ccd4e430e5c38b48af448ec09d', key: TENANT, unit: 'hour' },
  { table: 'analytics_rollups_daily', pk: 'PK_38fd7d23d7bbf87bf095e1a911d', key: TENANT, unit: 'day' },
  {
    table: 'analytics_platform_rollups_hourly',
    pk: 'PK_2391f6e64897e86e99f57f7b628',
    key: SHARED,
    unit: 'hour',
  },
  {
    table: 'analytics_platform_rollups_daily',
    pk: 'PK_0a3ec4a830f86a57c3158dea9c0',
    key: SHARED,
    unit: 'day',
  },
] as const;

/** Folds the deltas in `d` into one rollup: summed per key, one upsert. */
const upsert = (r: (typeof ROLLUPS)[number]): string => {
  const select = r.key.map((k) =>
    k === 'bucket_start' ? `date_trunc('${r.unit}', bucket_start, 'UTC')` : k,
  );
  const groups = r.key.map((_, i) => String(i + 1)).join(', ');
  return `INSERT INTO ${r.table} AS t (${r.key.join(', ')}, ${METRICS.join(', ')})
      SELECT ${select.join(', ')}, ${METRICS.map((m) => `sum(${m})`).join(', ')} FROM d GROUP BY ${groups}
      HAVING ${METRICS.map((m) => `sum(${m}) <> 0`).join(' OR ')}
      ON CONFLICT (${r.key.join(', ')}) DO UPDATE SET ${METRICS.map((m) => `${m} = t.${m} + EXCLUDED.${m}`).join(', ')}`;
};

const contributionsOf = (row: string, sign: '-' | ''): string =>
  `SELECT ${row}.tenant_id, ${row}.stripe_account_id, ${row}.currency, COALESCE(${row}.charge_type::text, '') AS charge_type,
          ${row}.type::text AS type, COALESCE(${row}.routing_rule, '') AS routing_rule, x.at,
          ${METRICS.map((m) => `${sign}x.${m} AS ${m}`).join(', ')}
     FROM analytics_route_contributions(${row}) x`;

/**
 * Analytics rollups, kept exact by a trigger on payment_routes: every INSERT, UPDATE or DELETE appends, in the
 * transaction of the change, the old row's contribution subtracted and the new one's added (analytics_rollup_deltas).
 * Replayed, duplicated or reordered webhooks can only move a route between states, so nothing counts twice. Deltas
 * are append-only, so concurrent payments never queue on a shared bucket row; analytics_fold() moves them into the
 * hourly and daily rollups (tenant and platform-wide) in one statement, and queries add what is not folded yet.
 */
export class AnalyticsRollups1764220000000 implements MigrationInterface {
  name = 'AnalyticsRollups1764220000000';

  public async up(q: QueryRunner): Promise<void> {
    for (const r of ROLLUPS) {
      await q.query(
        `CREATE TABLE "${r.table}" (${COUNTER_COLUMNS}, ${SHARED_COLUMNS}${r.key === TENANT ? `, ${TENANT_COLUMNS}` : ''}, CONSTRAINT "${r.pk}" PRIMARY KEY (${r.key.map((k) => `"${k}"`).join(', ')}))`,
      );
    }
    await q.query(
      `CREATE INDEX "ix_analytics_rollups_hourly_tenant" ON "analytics_rollups_hourly" ("tenant_id", "bucket_start") `,
    );
    await q.query(
      `CREATE INDEX "ix_analytics_rollups_daily_tenant" ON "analytics_rollups_daily" ("tenant_id", "bucket_start") `,
    );
    await q.query(
      `CREATE TABLE "analytics_rollup_deltas" (${COUNTER_COLUMNS}, "id" BIGSERIAL NOT NULL, "bucket_start" TIMESTAMP WITH TIME ZONE NOT NULL, "tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "currency" character(3) NOT NULL, "charge_type" character varying(16) NOT NULL, "type" character varying(16) NOT NULL, "routing_rule" character varying(200) NOT NULL, CONSTRAINT "PK_543f62177bb1c2c3648b139c109" PRIMARY KEY ("id"))`,
    );
    // What one route contributes, and when: a payment at its creation; a refund or transfer at its own creation
    // once completed; a dispute when it was opened; each application fee refund when it was made.
    await q.query(`
      CREATE FUNCTION analytics_route_contributions(r payment_routes)
      RETURNS TABLE (at timestamptz, ${METRICS.map((m) => `${m} bigint`).join(', ')})
      LANGUAGE sql STABLE AS $$
        SELECT r.created_at, 1::bigint, ok, ko, ko * declined, ok * r.amount, ok * r.fee, 0::bigint,
               0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint
          FROM (SELECT (r.status = 'completed')::int::bigint AS ok, (r.status = 'failed')::int::bigint AS ko,
                       (COALESCE(r.stripe_details->>'declined', 'false') = 'true')::int::bigint AS declined) s
         WHERE r.type = 'payment'
        UNION ALL
        SELECT r.created_at, 0, 0, 0, 0, 0, 0, 0, 1, r.amount, 0, 0, 0
         WHERE r.type = 'refund' AND r.status = 'completed'
        UNION ALL
        SELECT r.created_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, r.amount
         WHERE r.type = 'transfer' AND r.status = 'completed'
        UNION ALL
        SELECT to_timestamp(COALESCE((d->>'opened_at')::bigint, (d->>'created')::bigint)), 0, 0, 0, 0, 0, 0, 0,
               0, 0, 1, COALESCE((d->>'amount')::bigint, 0), 0
          FROM (SELECT r.stripe_details->'dispute' AS d) s
         WHERE r.type = 'payment' AND jsonb_typeof(d) = 'object'
        UNION ALL
        SELECT to_timestamp((f->>'created')::bigint), 0, 0, 0, 0, 0, 0, (f->>'amount')::bigint, 0, 0, 0, 0, 0
          FROM jsonb_array_elements(CASE WHEN r.type = 'payment'
                 AND jsonb_typeof(r.stripe_details->'application_fee'->'refunds') = 'array'
                 THEN r.stripe_details->'application_fee'->'refunds' ELSE '[]'::jsonb END) f
        UNION ALL
        -- Fee refunds Stripe reported only as a total (beyond the listed ones): at the time that total was reported.
        SELECT to_timestamp((a->>'created')::bigint), 0, 0, 0, 0, 0, 0, rest, 0, 0, 0, 0, 0
          FROM (SELECT a, COALESCE((a->>'amount_refunded')::bigint, 0) - COALESCE((SELECT sum((f->>'amount')::bigint)
                  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a->'refunds') = 'array' THEN a->'refunds'
                       ELSE '[]'::jsonb END) f), 0) AS rest
                  FROM (SELECT r.stripe_details->'application_fee' AS a) s0) s
         WHERE r.type = 'payment' AND jsonb_typeof(a) = 'object' AND rest > 0
      $$`);
    // The common case in one expression: a route without dispute or fee facts contributes only at its creation.
    await q.query(`
      CREATE FUNCTION analytics_simple_contribution(r payment_routes) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE r.type::text
          WHEN 'payment' THEN ARRAY[1, ok, ko, ko * dc, ok * r.amount, ok * r.fee, 0, 0, 0, 0, 0, 0]
          WHEN 'refund' THEN ARRAY[0, 0, 0, 0, 0, 0, 0, ok, ok * r.amount, 0, 0, 0]
          WHEN 'transfer' THEN ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ok * r.amount]
          ELSE ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] END::bigint[]
          FROM (SELECT (r.status IS NOT DISTINCT FROM 'completed')::int::bigint AS ok,
                       (r.status IS NOT DISTINCT FROM 'failed')::int::bigint AS ko,
                       (COALESCE(r.stripe_details->>'declined', 'false') = 'true')::int::bigint AS dc) s
      $$`);
    await q.query(`
      CREATE FUNCTION analytics_rollup_route() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        o payment_routes;
        n payment_routes;
        r payment_routes;
        ov bigint[];
        nv bigint[];
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          TRUNCATE analytics_rollup_deltas, ${ROLLUPS.map((x) => x.table).join(', ')};
          RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN o := OLD; END IF;
        IF TG_OP <> 'DELETE' THEN n := NEW; END IF;
        -- Fast path (most writes): no dispute or fee refund facts, same bucket and dimensions: one delta row.
        IF NOT COALESCE(o.stripe_details ?| '{dispute,application_fee}'::text[], false)
           AND NOT COALESCE(n.stripe_details ?| '{dispute,application_fee}'::text[], false)
           AND (TG_OP <> 'UPDATE' OR (o.created_at = n.created_at
                AND (${DIMS.map((d) => `o.${d}`).join(', ')}) IS NOT DISTINCT FROM (${DIMS.map((d) => `n.${d}`).join(', ')})))
        THEN
          ov := analytics_simple_contribution(o);
          nv := analytics_simple_contribution(n);
          IF ov = nv THEN RETURN NULL; END IF;
          IF TG_OP = 'DELETE' THEN r := o; ELSE r := n; END IF;
          INSERT INTO analytics_rollup_deltas (bucket_start, ${DIMS.join(', ')}, ${METRICS.join(', ')})
          VALUES (date_trunc('hour', r.created_at, 'UTC'), r.tenant_id, r.stripe_account_id, r.currency,
                  COALESCE(r.charge_type::text, ''), r.type::text, COALESCE(r.routing_rule, ''),
                  ${METRICS.map((_, i) => `nv[${i + 1}] - ov[${i + 1}]`).join(', ')});
          RETURN NULL;
        END IF;
        INSERT INTO analytics_rollup_deltas (bucket_start, ${DIMS.join(', ')}, ${METRICS.join(', ')})
        SELECT date_trunc('hour', at, 'UTC'), ${DIMS.join(', ')}, ${METRICS.map((m) => `sum(${m})`).join(', ')}
          FROM (${contributionsOf('o', '-')} UNION ALL ${contributionsOf('n', '')}) c
         GROUP BY 1, ${DIMS.map((_, i) => String(i + 2)).join(', ')}
        HAVING ${METRICS.map((m) => `sum(${m}) <> 0`).join(' OR ')};
        RETURN NULL;
      END
      $$`);
    // One folder at a time (advisory lock); each call folds at most max_rows deltas, oldest first.
    await q.query(`
      CREATE FUNCTION analytics_fold(max_rows integer) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        folded integer;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('analytics_fold'));
        WITH d AS (
          DELETE FROM analytics_rollup_deltas
           WHERE id IN (SELECT id FROM analytics_rollup_deltas ORDER BY id LIMIT max_rows)
          RETURNING *
        ),
        ${ROLLUPS.map((r, i) => `u${i} AS (${upsert(r)})`).join(',\n        ')}
        SELECT count(*) INTO folded FROM d;
        RETURN folded;
      END
      $$`);
    await q.query(
      `CREATE TRIGGER analytics_rollup_route_insert_delete AFTER INSERT OR DELETE ON "payment_routes" FOR EACH ROW EXECUTE FUNCTION analytics_rollup_route()`,
    );
    // Only the columns a contribution reads: the many updates that touch nothing else cost nothing.
    await q.query(
      `CREATE TRIGGER analytics_rollup_route_update AFTER UPDATE ON "payment_routes" FOR EACH ROW WHEN (${[
        'created_at',
        'status',
        'amount',
        'fee',
        'stripe_details',
        ...DIMS,
      ]
        .map((c) => `OLD.${c} IS DISTINCT FROM NEW.${c}`)
        .join(' OR ')}) EXECUTE FUNCTION analytics_rollup_route()`,
    );
    await q.query(
      `CREATE TRIGGER analytics_rollup_route_truncate AFTER TRUNCATE ON "payment_routes" FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_route()`,
    );
    // Routes that already exist count from the start.
    await q.query(`
      INSERT INTO analytics_rollup_deltas (bucket_start, ${DIMS.join(', ')}, ${METRICS.join(', ')})
      SELECT date_trunc('hour', at, 'UTC'), ${DIMS.join(', ')}, ${METRICS.map((m) => `sum(${m})`).join(', ')}
        FROM (${contributionsOf('o', '').replace('analytics_route_contributions(o) x', 'payment_routes o CROSS JOIN LATERAL analytics_route_contributions(o) x')}) c
       GROUP BY 1, ${DIMS.map((_, i) => String(i + 2)).join(', ')}`);
    await q.query(`SELECT analytics_fold(2147483647)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "analytics_rollup_route_truncate" ON "payment_routes"`);
    await q.query(`DROP TRIGGER "analytics_rollup_route_update" ON "payment_routes"`);
    await q.query(`DROP TRIGGER "analytics_rollup_route_insert_delete" ON "payment_routes"`);
    await q.query(`DROP FUNCTION analytics_fold(integer)`);
    await q.query(`DROP FUNCTION analytics_rollup_route()`);
    await q.query(`DROP FUNCTION analytics_simple_contribution(payment_routes)`);
    await q.query(`DROP FUNCTION analytics_route_contributions(payment_routes)`);
    await q.query(`DROP TABLE "analytics_rollup_deltas"`);
    await q.query(`DROP INDEX "public"."ix_analytics_rollups_daily_tenant"`);
    await q.query(`DROP INDEX "public"."ix_analytics_rollups_hourly_tenant"`);
    for (const r of [...ROLLUPS].reverse()) await q.query(`DROP TABLE "${r.table}"`);
  }
}

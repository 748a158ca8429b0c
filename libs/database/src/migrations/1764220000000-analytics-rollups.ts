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
const DIMS = ['tenant_id', 'stripe_account_id', 'currency', 'charge_type', 'type', 'routing_rule'];
const KEY = [
  'tenant_id',
  'bucket_start',
  'stripe_account_id',
  'currency',
  'charge_type',
  'type',
  'routing_rule',
];

const columns = (table: string, pk: string): string =>
  `CREATE TABLE "${table}" ("tenant_id" character varying(128) NOT NULL, "bucket_start" TIMESTAMP WITH TIME ZONE NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "currency" character(3) NOT NULL, "charge_type" character varying(16) NOT NULL, "type" character varying(16) NOT NULL, "routing_rule" character varying(200) NOT NULL, ${METRICS.map((m) => `"${m}" bigint NOT NULL DEFAULT '0'`).join(', ')}, CONSTRAINT "${pk}" PRIMARY KEY (${KEY.map((k) => `"${k}"`).join(', ')}))`;

/** One upsert of the summed deltas in `c` into a rollup table, in primary-key order so concurrent writers never deadlock. */
const upsert = (table: string, unit: 'hour' | 'day'): string => `
    INSERT INTO ${table} AS t (${KEY.join(', ')}, ${METRICS.join(', ')})
    SELECT tenant_id, date_trunc('${unit}', at, 'UTC'), stripe_account_id, currency, charge_type, type, routing_rule,
           ${METRICS.map((m) => `sum(${m})`).join(', ')}
      FROM c
     GROUP BY tenant_id, 2, stripe_account_id, currency, charge_type, type, routing_rule
    HAVING ${METRICS.map((m) => `sum(${m}) <> 0`).join(' OR ')}
     ORDER BY tenant_id, 2, stripe_account_id, currency, charge_type, type, routing_rule
    ON CONFLICT (${KEY.join(', ')}) DO UPDATE SET
      ${METRICS.map((m) => `${m} = t.${m} + EXCLUDED.${m}`).join(', ')}`;

const side = (row: 'o' | 'n', sign: '-' | ''): string =>
  `SELECT ${row}.tenant_id, ${row}.stripe_account_id, ${row}.currency, COALESCE(${row}.charge_type::text, '') AS charge_type,
          ${row}.type::text AS type, COALESCE(${row}.routing_rule, '') AS routing_rule, x.at,
          ${METRICS.map((m) => `${sign}x.${m} AS ${m}`).join(', ')}
     FROM analytics_route_contributions(${row}) x`;

/**
 * Analytics rollups, hourly and daily, kept exact by a trigger on payment_routes: every INSERT, UPDATE or DELETE
 * subtracts the old row's contribution and adds the new one's, in the transaction of the change. Replayed,
 * duplicated or reordered webhooks can only move a route between states, so they can never count twice.
 */
export class AnalyticsRollups1764220000000 implements MigrationInterface {
  name = 'AnalyticsRollups1764220000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(columns('analytics_rollups_hourly', 'PK_4ccd4e430e5c38b48af448ec09d'));
    await q.query(
      `CREATE INDEX "ix_analytics_rollups_hourly_bucket" ON "analytics_rollups_hourly" ("bucket_start") `,
    );
    await q.query(columns('analytics_rollups_daily', 'PK_38fd7d23d7bbf87bf095e1a911d'));
    await q.query(
      `CREATE INDEX "ix_analytics_rollups_daily_bucket" ON "analytics_rollups_daily" ("bucket_start") `,
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
    await q.query(`
      CREATE FUNCTION analytics_rollup_route() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        o payment_routes;
        n payment_routes;
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          TRUNCATE analytics_rollups_hourly, analytics_rollups_daily;
          RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN o := OLD; END IF;
        IF TG_OP <> 'DELETE' THEN n := NEW; END IF;
        WITH c AS (${side('o', '-')} UNION ALL ${side('n', '')}),
             h AS (${upsert('analytics_rollups_hourly', 'hour')})
        ${upsert('analytics_rollups_daily', 'day')};
        RETURN NULL;
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
      WITH c AS (${side('o', '').replace('FROM analytics_route_contributions(o) x', 'FROM payment_routes o CROSS JOIN LATERAL analytics_route_contributions(o) x')}),
           h AS (${upsert('analytics_rollups_hourly', 'hour')})
      ${upsert('analytics_rollups_daily', 'day')}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "analytics_rollup_route_truncate" ON "payment_routes"`);
    await q.query(`DROP TRIGGER "analytics_rollup_route_update" ON "payment_routes"`);
    await q.query(`DROP TRIGGER "analytics_rollup_route_insert_delete" ON "payment_routes"`);
    await q.query(`DROP FUNCTION analytics_rollup_route()`);
    await q.query(`DROP FUNCTION analytics_route_contributions(payment_routes)`);
    await q.query(`DROP INDEX "public"."ix_analytics_rollups_daily_bucket"`);
    await q.query(`DROP TABLE "analytics_rollups_daily"`);
    await q.query(`DROP INDEX "public"."ix_analytics_rollups_hourly_bucket"`);
    await q.query(`DROP TABLE "analytics_rollups_hourly"`);
  }
}

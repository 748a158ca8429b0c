import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Sql, affected, empty, ident, join, keyword, one, rows, sql } from '@app/database';
import { COUNTERS, Counter, DIMENSIONS, Dimension, planSources } from './analytics-metrics';

export type Granularity = '1h' | '1d' | 'total';

export interface RollupRow {
  b: Date | null;
  [k: string]: unknown;
}

const ROLLUP_TABLES = [
  'analytics_rollups_hourly',
  'analytics_rollups_daily',
  'analytics_platform_rollups_hourly',
  'analytics_platform_rollups_daily',
] as const;
const SOURCE_TABLES = [...ROLLUP_TABLES, 'analytics_rollup_deltas'] as const;
const COLUMNS: readonly string[] = ['bucket_start', ...DIMENSIONS, ...COUNTERS];

const isTenantKey = (d: Dimension): boolean => d === 'tenant_id' || d === 'stripe_account_id';
const col = (name: string): Sql => ident(name, COLUMNS);
const table = (name: string): Sql => ident(name, SOURCE_TABLES);

/**
 * The analytics rollups (hourly and daily, per tenant and platform-wide) and the deltas route changes append for
 * the fold: reads that sum them, the fold, and the rebuild from payment_routes.
 */
@Injectable()
export class AnalyticsRollupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One row per (bucket, group) with the summed counters, by bucket then group. */
  async read(
    from: Date,
    to: Date,
    granularity: Granularity,
    groupBy: Dimension[],
    filters: Partial<Record<Dimension, string[]>>,
    counters: Counter[],
  ): Promise<RollupRow[]> {
    const entries = Object.entries(filters) as [Dimension, string[]][];
    // join() refuses an empty list: no filter is the empty fragment.
    const filterSql = (): Sql =>
      entries.length
        ? join(
            entries.map(([d, values]) =>
              d === 'currency'
                ? sql` AND currency = ANY(${values}::bpchar[])`
                : sql` AND ${col(d)} = ANY(${values}::text[])`,
            ),
            '',
          )
        : empty;
    const cols = join(['bucket_start', ...groupBy, ...counters].map(col));
    // Without tenant or account in the query, the platform-wide rollups answer (a few rows per day).
    const platformWide =
      !groupBy.some(isTenantKey) && !Object.keys(filters).some((d) => isTenantKey(d as Dimension));
    const tables = platformWide
      ? {
          hourly: table('analytics_platform_rollups_hourly'),
          daily: table('analytics_platform_rollups_daily'),
        }
      : { hourly: table('analytics_rollups_hourly'), daily: table('analytics_rollups_daily') };
    const plan = planSources(from, to, granularity);
    const part = (source: Sql, f: Date, t: Date): Sql =>
      sql`SELECT ${cols} FROM ${source} WHERE bucket_start >= ${f} AND bucket_start < ${t}${filterSql()}`;
    const parts: Sql[] = [];
    if (plan.daily) parts.push(part(tables.daily, plan.daily[0], plan.daily[1]));
    for (const [f, t] of plan.hourly) parts.push(part(tables.hourly, f, t));
    // Route changes the fold has not moved into the rollups yet (one statement: one snapshot, nothing twice).
    parts.push(part(table('analytics_rollup_deltas'), from, to));
    const bucket =
      granularity === '1h'
        ? keyword('bucket_start', ['bucket_start'])
        : granularity === '1d'
          ? keyword(`date_trunc('day', bucket_start, 'UTC')`, [`date_trunc('day', bucket_start, 'UTC')`])
          : null;
    const keys = [...(bucket ? [bucket] : []), ...groupBy.map(col)];
    const select = join([
      bucket ? sql`${bucket} AS b` : sql`NULL::timestamptz AS b`,
      ...groupBy.map(col),
      ...counters.map((c) => sql`sum(${col(c)})::text AS ${col(c)}`),
    ]);
    return rows<RollupRow>(
      this.dataSource,
      sql`SELECT ${select} FROM (${join(parts, ' UNION ALL ')}) s
        ${keys.length ? sql`GROUP BY ${join(keys)}` : empty}
        HAVING ${join(
          counters.map((c) => sql`sum(${col(c)}) <> 0`),
          ' OR ',
        )}
        ${keys.length ? sql`ORDER BY ${join(keys)}` : empty}`,
    );
  }

  /** Moves up to `batch` deltas into the rollups; answers how many it moved. */
  async fold(batch: number): Promise<number> {
    return (await one<{ n: number }>(this.dataSource, sql`SELECT analytics_fold(${batch}) AS n`))!.n;
  }

  /** The deltas table is emptied by every fold: reclaim its pages now, or queries scan what was folded. */
  async vacuumDeltas(): Promise<void> {
    await rows(this.dataSource, sql`VACUUM (ANALYZE) analytics_rollup_deltas`);
  }

  /**
   * Recomputes every bucket from `start` from the routes themselves. Route writes wait while it runs (a SHARE lock
   * on payment_routes), so no change slips between the recount and the swap. Answers the routes counted and the
   * hourly groups written.
   */
  async rebuild(start: Date): Promise<{ routes: number; deltas: number }> {
    const sums = join(COUNTERS.map((c) => sql`sum(x.${col(c)})`));
    const nonZero = join(
      COUNTERS.map((c) => sql`sum(x.${col(c)}) <> 0`),
      ' OR ',
    );
    return this.dataSource.transaction(async (m) => {
      await rows(m, sql`LOCK TABLE payment_routes IN SHARE MODE`);
      // Deltas from before `start` are still owed to the rollups; fold them first, then recount from `start`.
      await rows(m, sql`SELECT analytics_fold(2147483647)`);
      for (const name of ROLLUP_TABLES)
        await affected(m, sql`DELETE FROM ${table(name)} WHERE bucket_start >= ${start}`);
      const inserted = await one<{ n: number }>(
        m,
        sql`WITH ins AS (
           INSERT INTO analytics_rollup_deltas (bucket_start, tenant_id, stripe_account_id, currency, charge_type, type,
                                                routing_rule, ${join(COUNTERS.map(col))})
           SELECT date_trunc('hour', x.at, 'UTC'), p.tenant_id, p.stripe_account_id, p.currency,
                  COALESCE(p.charge_type::text, ''), p.type::text, COALESCE(p.routing_rule, ''), ${sums}
             FROM payment_routes p CROSS JOIN LATERAL analytics_route_contributions(p) x
            WHERE (p.created_at >= ${start} OR p.stripe_details ?| array['dispute', 'application_fee'])
              AND x.at >= ${start}
            GROUP BY 1, 2, 3, 4, 5, 6, 7
           HAVING ${nonZero}
           RETURNING 1)
         SELECT count(*)::int AS n FROM ins`,
      );
      await rows(m, sql`SELECT analytics_fold(2147483647)`);
      const counted = await one<{ n: number }>(
        m,
        sql`SELECT count(*)::int AS n FROM payment_routes WHERE created_at >= ${start}`,
      );
      return { routes: counted!.n, deltas: inserted!.n };
    });
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Caller, tenantScopeOf } from '@app/auth';
import { ErrorCode, ServiceException, fieldError } from '@app/common';
import {
  AMOUNT_METRICS,
  COUNTERS,
  Counter,
  Counters,
  DAY_MS,
  DIMENSIONS,
  Dimension,
  addCounters,
  bucketBounds,
  countersFor,
  deriveMetrics,
  isHourAligned,
  planSources,
} from './analytics-metrics';
import { AnalyticsQueryDto, AnalyticsResultDto } from './dto/analytics-query.dto';
import { toCsv } from './csv.util';

/** The longest range per granularity, so one answer stays a few thousand buckets at most. */
const MAX_RANGE_DAYS = { '1h': 31, '1d': 3_660, total: 3_660 } as const;

interface Row {
  b: Date | null;
  [k: string]: unknown;
}

const isTenantKey = (d: Dimension): boolean => d === 'tenant_id' || d === 'stripe_account_id';

/** Deltas folded per statement: bounds one fold transaction. */
const FOLD_BATCH = 50_000;

const ROLLUP_TABLES = [
  'analytics_rollups_hourly',
  'analytics_rollups_daily',
  'analytics_platform_rollups_hourly',
  'analytics_platform_rollups_daily',
];

/** Rollup key columns hold '' for "none" (they are part of the primary key); answers say null. */
const dimValue = (v: unknown): string | null => {
  const s = typeof v === 'string' ? v.trim() : v === null || v === undefined ? null : String(v);
  return s === '' || s === null ? null : s;
};

/**
 * Answers analytics queries from the rollups plus the deltas not folded yet (never from payment_routes), folds
 * the deltas, and rebuilds the rollups from the routes after a bug or a restore.
 */
@Injectable()
export class AnalyticsService {
  private readonly logger = new Logger('AnalyticsService');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async query(caller: Caller, dto: AnalyticsQueryDto): Promise<AnalyticsResultDto> {
    const from = new Date(dto.time_range.from);
    const to = new Date(dto.time_range.to);
    if (!isHourAligned(from))
      throw fieldError('time_range.from', 'must be on a UTC hour (e.g. 2026-11-01T00:00:00Z)');
    if (!isHourAligned(to))
      throw fieldError('time_range.to', 'must be on a UTC hour (e.g. 2026-12-01T00:00:00Z)');
    if (to <= from) throw fieldError('time_range.to', 'must be after time_range.from');
    const maxDays = MAX_RANGE_DAYS[dto.granularity];
    if (to.getTime() - from.getTime() > maxDays * DAY_MS)
      throw fieldError('time_range', `at most ${maxDays} days at granularity ${dto.granularity}`);
    const groupBy = DIMENSIONS.filter((d) => dto.group_by?.includes(d));
    const filters: Partial<Record<Dimension, string[]>> = {};
    for (const d of DIMENSIONS) {
      const values = dto.filters?.[d];
      if (values) filters[d] = [...new Set(values.map((v) => v.trim()))];
    }
    if (filters.currency) filters.currency = filters.currency.map((c) => c.toLowerCase());
    const amounts = dto.metrics.filter((m) => AMOUNT_METRICS.includes(m));
    if (amounts.length && !groupBy.includes('currency') && filters.currency?.length !== 1) {
      throw fieldError(
        'group_by',
        `${amounts.join(', ')} ${amounts.length > 1 ? 'are amounts' : 'is an amount'} in minor units: add "currency" to group_by or filter on one currency (amounts are never summed across currencies)`,
      );
    }
    const tenant = tenantScopeOf(caller);
    if (tenant !== null) {
      if (filters.tenant_id && filters.tenant_id.some((t) => t !== tenant))
        throw new ServiceException(ErrorCode.Forbidden, 'A tenant caller can only query its own tenant');
      filters.tenant_id = [tenant];
    }

    const counters = countersFor(dto.metrics);
    const rows = await this.read(from, to, dto.granularity, groupBy, filters, counters);

    const groupOf = (r: Row): Record<string, string | null> =>
      Object.fromEntries(groupBy.map((d) => [d, dimValue(r[d])]));
    const countersOf = (r: Row): Counters =>
      Object.fromEntries(counters.map((c) => [c, Number(r[c])])) as Counters;
    const totals = new Map<string, { group: Record<string, string | null>; counters: Counters }>();
    const buckets: AnalyticsResultDto['buckets'] = [];
    for (const r of rows) {
      const group = groupOf(r);
      const c = countersOf(r);
      const key = JSON.stringify(group);
      const total = totals.get(key) ?? { group, counters: {} };
      addCounters(total.counters, c);
      totals.set(key, total);
      const bounds =
        dto.granularity === 'total'
          ? { start: from, end: to }
          : bucketBounds(r.b!, dto.granularity, from, to);
      buckets.push({
        start: bounds.start.toISOString(),
        end: bounds.end.toISOString(),
        group,
        metrics: deriveMetrics(c, dto.metrics),
      });
    }
    const sortedTotals = [...totals.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, t]) => ({ group: t.group, metrics: deriveMetrics(t.counters, dto.metrics) }));
    return { buckets, totals: sortedTotals };
  }

  /** One row per (bucket, group) with the summed counters, by bucket then group. */
  private async read(
    from: Date,
    to: Date,
    granularity: AnalyticsQueryDto['granularity'],
    groupBy: Dimension[],
    filters: Partial<Record<Dimension, string[]>>,
    counters: Counter[],
  ): Promise<Row[]> {
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const filterSql = (Object.entries(filters) as [Dimension, string[]][])
      .map(([d, values]) =>
        d === 'currency' ? `currency = ANY(${p(values)}::bpchar[])` : `${d} = ANY(${p(values)}::text[])`,
      )
      .map((s) => ` AND ${s}`)
      .join('');
    const cols = ['bucket_start', ...groupBy, ...counters].join(', ');
    // Without tenant or account in the query, the platform-wide rollups answer (a few rows per day).
    const platformWide =
      !groupBy.some(isTenantKey) && !Object.keys(filters).some((d) => isTenantKey(d as Dimension));
    const tables = platformWide
      ? { hourly: 'analytics_platform_rollups_hourly', daily: 'analytics_platform_rollups_daily' }
      : { hourly: 'analytics_rollups_hourly', daily: 'analytics_rollups_daily' };
    const plan = planSources(from, to, granularity);
    const range = (f: Date, t: Date): string => `bucket_start >= ${p(f)} AND bucket_start < ${p(t)}`;
    const parts: string[] = [];
    if (plan.daily)
      parts.push(
        `SELECT ${cols} FROM ${tables.daily} WHERE ${range(plan.daily[0], plan.daily[1])}${filterSql}`,
      );
    for (const [f, t] of plan.hourly)
      parts.push(`SELECT ${cols} FROM ${tables.hourly} WHERE ${range(f, t)}${filterSql}`);
    // Route changes the fold has not moved into the rollups yet (one statement: one snapshot, nothing twice).
    parts.push(`SELECT ${cols} FROM analytics_rollup_deltas WHERE ${range(from, to)}${filterSql}`);
    const bucket =
      granularity === '1h'
        ? 'bucket_start'
        : granularity === '1d'
          ? `date_trunc('day', bucket_start, 'UTC')`
          : null;
    const keys = [...(bucket ? [bucket] : []), ...groupBy];
    const select = [
      bucket ? `${bucket} AS b` : 'NULL::timestamptz AS b',
      ...groupBy,
      ...counters.map((c) => `sum(${c})::text AS ${c}`),
    ].join(', ');
    const sql = `SELECT ${select} FROM (${parts.join(' UNION ALL ')}) s
      ${keys.length ? `GROUP BY ${keys.join(', ')}` : ''}
      HAVING ${counters.map((c) => `sum(${c}) <> 0`).join(' OR ')}
      ${keys.length ? `ORDER BY ${keys.join(', ')}` : ''}`;
    return (await this.dataSource.query(sql, params)) as Row[];
  }

  /** The CSV of an answer: one row per bucket, the group's columns then the metrics'. */
  toCsv(dto: AnalyticsQueryDto, result: AnalyticsResultDto): string {
    const groupBy = DIMENSIONS.filter((d) => dto.group_by?.includes(d));
    return toCsv(
      ['start', 'end', ...groupBy, ...dto.metrics],
      result.buckets.map((b) => [
        b.start,
        b.end,
        ...groupBy.map((d) => b.group[d] ?? null),
        ...dto.metrics.map((m) => b.metrics[m] ?? null),
      ]),
    );
  }

  /** Moves every delta appended so far into the rollups (the fold job, every minute on one replica). */
  async fold(): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ n }] = (await this.dataSource.query('SELECT analytics_fold($1) AS n', [FOLD_BATCH])) as {
        n: number;
      }[];
      total += n;
      if (n < FOLD_BATCH) break;
    }
    if (total > 0) await this.vacuumDeltas();
    return total;
  }

  /** The deltas table is emptied by every fold: reclaim its pages now, or queries scan what was folded. */
  private async vacuumDeltas(): Promise<void> {
    await this.dataSource.query('VACUUM (ANALYZE) analytics_rollup_deltas');
  }

  /**
   * Recomputes every bucket from `since` (rounded down to its UTC day) from the routes themselves. Route writes
   * wait while it runs (a SHARE lock on payment_routes), so no change slips between the recount and the swap.
   */
  async rebuild(since: Date): Promise<{ since: string; routes: number; deltas: number }> {
    const start = new Date(Math.floor(since.getTime() / DAY_MS) * DAY_MS);
    const sums = COUNTERS.map((c) => `sum(x.${c})`).join(', ');
    const nonZero = COUNTERS.map((c) => `sum(x.${c}) <> 0`).join(' OR ');
    const result = await this.dataSource.transaction(async (m) => {
      await m.query('LOCK TABLE payment_routes IN SHARE MODE');
      // Deltas from before `start` are still owed to the rollups; fold them first, then recount from `start`.
      await m.query('SELECT analytics_fold(2147483647)');
      for (const table of ROLLUP_TABLES)
        await m.query(`DELETE FROM ${table} WHERE bucket_start >= $1`, [start]);
      const [{ n: deltas }] = (await m.query(
        `WITH ins AS (
           INSERT INTO analytics_rollup_deltas (bucket_start, tenant_id, stripe_account_id, currency, charge_type, type,
                                                routing_rule, ${COUNTERS.join(', ')})
           SELECT date_trunc('hour', x.at, 'UTC'), p.tenant_id, p.stripe_account_id, p.currency,
                  COALESCE(p.charge_type::text, ''), p.type::text, COALESCE(p.routing_rule, ''), ${sums}
             FROM payment_routes p CROSS JOIN LATERAL analytics_route_contributions(p) x
            WHERE (p.created_at >= $1 OR p.stripe_details ?| array['dispute', 'application_fee']) AND x.at >= $1
            GROUP BY 1, 2, 3, 4, 5, 6, 7
           HAVING ${nonZero}
           RETURNING 1)
         SELECT count(*)::int AS n FROM ins`,
        [start],
      )) as { n: number }[];
      await m.query('SELECT analytics_fold(2147483647)');
      const [{ n }] = (await m.query(`SELECT count(*)::int AS n FROM payment_routes WHERE created_at >= $1`, [
        start,
      ])) as { n: number }[];
      this.logger.log(`analytics rebuilt from ${start.toISOString()}: ${n} routes, ${deltas} hourly groups`);
      return { since: start.toISOString(), routes: n, deltas };
    });
    await this.vacuumDeltas();
    return result;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { Caller, tenantScopeOf } from '@app/auth';
import { ErrorCode, ServiceException, fieldError } from '@app/common';
import {
  AMOUNT_METRICS,
  Counters,
  DAY_MS,
  DIMENSIONS,
  Dimension,
  Counter,
  addCounters,
  bucketBounds,
  countersFor,
  deriveMetrics,
  isHourAligned,
  isPayoutCounter,
} from './analytics-metrics';
import { PayoutsRepository } from '../payouts/payouts.repository';
import { AnalyticsRollupsRepository, RollupRow } from './analytics-rollups.repository';
import { AnalyticsQueryDto, AnalyticsResultDto } from './dto/analytics-query.dto';
import { toCsv } from './csv.util';

/** The longest range per granularity, so one answer stays a few thousand buckets at most. */
const MAX_RANGE_DAYS = { '1h': 31, '1d': 3_660, total: 3_660 } as const;

type Row = RollupRow;

/** Deltas folded per statement: bounds one fold transaction. */
const FOLD_BATCH = 50_000;

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

  constructor(
    private readonly rollups: AnalyticsRollupsRepository,
    private readonly payouts: PayoutsRepository,
  ) {}

  async answer(caller: Caller, dto: AnalyticsQueryDto): Promise<AnalyticsResultDto> {
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
    const rollupCounters = counters.filter((c): c is Counter => !isPayoutCounter(c));
    const read = () => this.rollups.read(from, to, dto.granularity, groupBy, filters, rollupCounters);
    const rows = counters.some(isPayoutCounter)
      ? mergeRows(
          [
            ...(rollupCounters.length ? await read() : []),
            ...(await this.payoutRows(from, to, dto.granularity, groupBy, filters)),
          ],
          groupBy,
        )
      : await read();

    const groupOf = (r: Row): Record<string, string | null> =>
      Object.fromEntries(groupBy.map((d) => [d, dimValue(r[d])]));
    const countersOf = (r: Row): Counters =>
      Object.fromEntries(counters.map((c) => [c, Number(r[c] ?? 0)])) as Counters;
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

  /** Payouts are not payment routes: their counters come from the payouts table, filtered the same way. */
  private async payoutRows(
    from: Date,
    to: Date,
    granularity: '1h' | '1d' | 'total',
    groupBy: Dimension[],
    filters: Partial<Record<Dimension, string[]>>,
  ): Promise<Row[]> {
    const entries = Object.entries(filters) as [Dimension, string[]][];
    // A filter on a route's dimension (charge type, route type, routing rule) matches no payout.
    if (entries.some(([d]) => !PAYOUT_DIMENSIONS.includes(d))) return [];
    const found = await this.payouts.analytics({
      from,
      to,
      granularity,
      groupBy,
      filters: Object.fromEntries(entries),
    });
    return found.map((r) => ({ ...r, b: (r.b as Date | null) ?? null }));
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
      const n = await this.rollups.fold(FOLD_BATCH);
      total += n;
      if (n < FOLD_BATCH) break;
    }
    if (total > 0) await this.rollups.vacuumDeltas();
    return total;
  }

  /**
   * Recomputes every bucket from `since` (rounded down to its UTC day) from the routes themselves. Route writes
   * wait while it runs (a SHARE lock on payment_routes), so no change slips between the recount and the swap.
   */
  async rebuild(since: Date): Promise<{ since: string; routes: number; deltas: number }> {
    const start = new Date(Math.floor(since.getTime() / DAY_MS) * DAY_MS);
    const { routes, deltas } = await this.rollups.rebuild(start);
    this.logger.log(
      `analytics rebuilt from ${start.toISOString()}: ${routes} routes, ${deltas} hourly groups`,
    );
    await this.rollups.vacuumDeltas();
    return { since: start.toISOString(), routes, deltas };
  }
}

const PAYOUT_DIMENSIONS: readonly Dimension[] = ['tenant_id', 'stripe_account_id', 'currency'];

/** Rollup rows and payout rows of the same (bucket, group) as one row, by bucket then group. */
function mergeRows(rows: Row[], groupBy: Dimension[]): Row[] {
  const merged = new Map<string, Row>();
  for (const r of rows) {
    const key = JSON.stringify([r.b ? new Date(r.b).getTime() : null, ...groupBy.map((d) => dimValue(r[d]))]);
    const into = merged.get(key);
    if (!into) {
      merged.set(key, { ...r });
      continue;
    }
    for (const [k, v] of Object.entries(r)) {
      if (k === 'b' || (groupBy as string[]).includes(k)) continue;
      into[k] = String(Number(into[k] ?? 0) + Number(v ?? 0));
    }
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

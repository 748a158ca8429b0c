/** The dimensions a query may group by or filter on: the rollups' key, bucket start aside. */
export const DIMENSIONS = [
  'tenant_id',
  'stripe_account_id',
  'currency',
  'charge_type',
  'type',
  'routing_rule',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Counters stored in the rollups, each a sum of integers. */
export const COUNTERS = [
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
] as const;
export type Counter = (typeof COUNTERS)[number];

/**
 * Counters read from the payouts table itself (payouts are not payment routes, so no trigger rolls them up):
 * every payout created, the amount of those paid, and how many failed, by the payout's creation.
 */
export const PAYOUT_COUNTERS = ['payouts_count', 'payouts_volume', 'payouts_failed'] as const;
export type PayoutCounter = (typeof PAYOUT_COUNTERS)[number];
export type AnyCounter = Counter | PayoutCounter;
export const isPayoutCounter = (c: AnyCounter): c is PayoutCounter =>
  (PAYOUT_COUNTERS as readonly string[]).includes(c);

export const METRICS = [
  'payments_attempted',
  'payments_succeeded',
  'payments_failed',
  'payments_declined',
  'success_rate',
  'gross_volume',
  'fees_collected',
  'fees_refunded',
  'refunds_count',
  'refunds_amount',
  'disputes_count',
  'disputes_amount',
  'dispute_rate',
  'net_platform_revenue',
  'average_ticket',
  'transfer_volume',
  'payouts_count',
  'payouts_volume',
  'payouts_failed',
] as const;
export type Metric = (typeof METRICS)[number];

/** Metrics in minor units of a currency: never summed across currencies. */
export const AMOUNT_METRICS: readonly Metric[] = [
  'gross_volume',
  'fees_collected',
  'fees_refunded',
  'refunds_amount',
  'disputes_amount',
  'net_platform_revenue',
  'average_ticket',
  'transfer_volume',
  'payouts_volume',
];

/** The counters each metric is computed from. */
const INPUTS: Record<Metric, readonly AnyCounter[]> = {
  payments_attempted: ['payments_attempted'],
  payments_succeeded: ['payments_succeeded'],
  payments_failed: ['payments_failed'],
  payments_declined: ['payments_declined'],
  success_rate: ['payments_succeeded', 'payments_failed'],
  gross_volume: ['gross_volume'],
  fees_collected: ['fees_collected'],
  fees_refunded: ['fees_refunded'],
  refunds_count: ['refunds_count'],
  refunds_amount: ['refunds_amount'],
  disputes_count: ['disputes_count'],
  disputes_amount: ['disputes_amount'],
  dispute_rate: ['disputes_count', 'payments_succeeded'],
  net_platform_revenue: ['fees_collected', 'fees_refunded'],
  average_ticket: ['gross_volume', 'payments_succeeded'],
  transfer_volume: ['transfer_volume'],
  payouts_count: ['payouts_count'],
  payouts_volume: ['payouts_volume'],
  payouts_failed: ['payouts_failed'],
};

export type Counters = Partial<Record<AnyCounter, number>>;

export function countersFor(metrics: readonly Metric[]): AnyCounter[] {
  const wanted = new Set(metrics.flatMap((m) => INPUTS[m]));
  return [...COUNTERS, ...PAYOUT_COUNTERS].filter((c) => wanted.has(c));
}

/** a ÷ b rounded half up, for non-negative integers (exact: no floating-point division). */
export function divideHalfUp(a: number, b: number): number {
  const q = Math.floor(a / b);
  const r = a - q * b;
  return 2 * r >= b ? q + 1 : q;
}

/** The requested metrics from summed counters; a ratio with nothing to divide by is null. */
export function deriveMetrics(c: Counters, metrics: readonly Metric[]): Record<string, number | null> {
  const v = (k: AnyCounter): number => c[k] ?? 0;
  const out: Record<string, number | null> = {};
  for (const m of metrics) {
    switch (m) {
      case 'success_rate': {
        const done = v('payments_succeeded') + v('payments_failed');
        out[m] = done === 0 ? null : v('payments_succeeded') / done;
        break;
      }
      // Disputed / succeeded payments by count, as card networks measure it (https://docs.stripe.com/disputes/measuring).
      case 'dispute_rate':
        out[m] = v('payments_succeeded') === 0 ? null : v('disputes_count') / v('payments_succeeded');
        break;
      case 'net_platform_revenue':
        out[m] = v('fees_collected') - v('fees_refunded');
        break;
      case 'average_ticket':
        out[m] =
          v('payments_succeeded') === 0 ? null : divideHalfUp(v('gross_volume'), v('payments_succeeded'));
        break;
      default:
        out[m] = v(m);
    }
  }
  return out;
}

export function addCounters(into: Counters, from: Counters): void {
  for (const [k, n] of Object.entries(from) as [AnyCounter, number][]) into[k] = (into[k] ?? 0) + n;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const floorTo = (t: number, unit: number): number => Math.floor(t / unit) * unit;
const ceilTo = (t: number, unit: number): number => Math.ceil(t / unit) * unit;

/** Which rollup answers which part of [from, to): whole UTC days from the daily table, the edges from the hourly. */
export interface SourcePlan {
  daily: [Date, Date] | null;
  hourly: [Date, Date][];
}

export function planSources(from: Date, to: Date, granularity: '1h' | '1d' | 'total'): SourcePlan {
  const f = from.getTime();
  const t = to.getTime();
  if (granularity === '1h') return { daily: null, hourly: [[from, to]] };
  const dayFrom = ceilTo(f, DAY);
  const dayTo = floorTo(t, DAY);
  if (dayFrom >= dayTo) return { daily: null, hourly: [[from, to]] };
  const hourly: [Date, Date][] = [];
  if (f < dayFrom) hourly.push([from, new Date(dayFrom)]);
  if (dayTo < t) hourly.push([new Date(dayTo), to]);
  return { daily: [new Date(dayFrom), new Date(dayTo)], hourly };
}

/** The bucket [start, end) that holds `at`, clipped to the query's range. */
export function bucketBounds(
  at: Date,
  granularity: '1h' | '1d',
  from: Date,
  to: Date,
): { start: Date; end: Date } {
  const unit = granularity === '1h' ? HOUR : DAY;
  const s = floorTo(at.getTime(), unit);
  return {
    start: new Date(Math.max(s, from.getTime())),
    end: new Date(Math.min(s + unit, to.getTime())),
  };
}

export const isHourAligned = (d: Date): boolean => d.getTime() % HOUR === 0;
export const HOUR_MS = HOUR;
export const DAY_MS = DAY;

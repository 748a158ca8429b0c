/** Stripe's payout schedule of a connected account. https://docs.stripe.com/connect/manage-payout-schedule */
export interface PayoutSchedule {
  interval: 'manual' | 'daily' | 'weekly' | 'monthly';
  delay_days?: number;
  weekly_anchor?: string;
  monthly_anchor?: number;
}

const INTERVALS = ['manual', 'daily', 'weekly', 'monthly'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * The combinations Stripe refuses, found before calling it: an anchor that does not belong to the interval, a
 * weekly schedule without `weekly_anchor`, a monthly one without `monthly_anchor` (1-31), delay_days outside 2-365.
 */
export function payoutScheduleProblems(
  s: Partial<Record<keyof PayoutSchedule, unknown>>,
): Array<{ field: string; errors: string[] }> {
  const problems: Array<{ field: string; errors: string[] }> = [];
  const add = (field: string, error: string) =>
    problems.push({ field: `payout_schedule.${field}`, errors: [error] });
  const interval = s.interval;
  if (typeof interval !== 'string' || !INTERVALS.includes(interval)) {
    add('interval', `must be one of ${INTERVALS.join(', ')}`);
    return problems;
  }
  if (s.delay_days !== undefined) {
    const d = s.delay_days;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 2 || d > 365)
      add('delay_days', 'must be an integer from 2 to 365');
  }
  if (interval === 'weekly' && (typeof s.weekly_anchor !== 'string' || !WEEKDAYS.includes(s.weekly_anchor)))
    add('weekly_anchor', `is required for a weekly schedule: one of ${WEEKDAYS.join(', ')}`);
  if (interval !== 'weekly' && s.weekly_anchor !== undefined)
    add('weekly_anchor', 'only applies to a weekly schedule');
  if (interval === 'monthly') {
    const a = s.monthly_anchor;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 31)
      add('monthly_anchor', 'is required for a monthly schedule: a day of the month from 1 to 31');
  }
  if (interval !== 'monthly' && s.monthly_anchor !== undefined)
    add('monthly_anchor', 'only applies to a monthly schedule');
  return problems;
}

/** What Stripe holds, read back exactly (anchors only where the interval has one). */
export function payoutScheduleOf(account: {
  settings?: { payouts?: { schedule?: object } | null } | null;
}): PayoutSchedule | null {
  const s = account.settings?.payouts?.schedule as Record<string, unknown> | undefined;
  if (!s || typeof s.interval !== 'string') return null;
  const out: PayoutSchedule = { interval: s.interval as PayoutSchedule['interval'] };
  if (typeof s.delay_days === 'number') out.delay_days = s.delay_days;
  if (s.interval === 'weekly' && typeof s.weekly_anchor === 'string') out.weekly_anchor = s.weekly_anchor;
  if (s.interval === 'monthly' && typeof s.monthly_anchor === 'number') out.monthly_anchor = s.monthly_anchor;
  return out;
}

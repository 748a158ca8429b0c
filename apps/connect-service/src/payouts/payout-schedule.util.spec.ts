import { payoutScheduleOf, payoutScheduleProblems } from './payout-schedule.util';

describe('payoutScheduleProblems', () => {
  it.each([
    [{ interval: 'manual' }],
    [{ interval: 'daily', delay_days: 3 }],
    [{ interval: 'weekly', weekly_anchor: 'friday' }],
    [{ interval: 'monthly', monthly_anchor: 31, delay_days: 7 }],
  ])('accepts %j', (s) => {
    expect(payoutScheduleProblems(s)).toEqual([]);
  });

  it.each([
    [{ interval: 'hourly' }, 'payout_schedule.interval'],
    [{ interval: 'weekly' }, 'payout_schedule.weekly_anchor'],
    [{ interval: 'weekly', weekly_anchor: 'someday' }, 'payout_schedule.weekly_anchor'],
    [{ interval: 'monthly' }, 'payout_schedule.monthly_anchor'],
    [{ interval: 'monthly', monthly_anchor: 32 }, 'payout_schedule.monthly_anchor'],
    [{ interval: 'daily', monthly_anchor: 3 }, 'payout_schedule.monthly_anchor'],
    [{ interval: 'manual', weekly_anchor: 'monday' }, 'payout_schedule.weekly_anchor'],
    [{ interval: 'daily', delay_days: 1 }, 'payout_schedule.delay_days'],
  ])('refuses %j on %s', (s, field) => {
    expect(payoutScheduleProblems(s).map((p) => p.field)).toContain(field);
  });
});

describe('payoutScheduleOf', () => {
  it('reads back what Stripe holds, anchors only for their interval', () => {
    expect(
      payoutScheduleOf({
        settings: { payouts: { schedule: { interval: 'weekly', delay_days: 2, weekly_anchor: 'monday' } } },
      }),
    ).toEqual({ interval: 'weekly', delay_days: 2, weekly_anchor: 'monday' });
    expect(
      payoutScheduleOf({
        settings: { payouts: { schedule: { interval: 'daily', delay_days: 2, weekly_anchor: 'monday' } } },
      }),
    ).toEqual({ interval: 'daily', delay_days: 2 });
    expect(payoutScheduleOf({})).toBeNull();
  });
});

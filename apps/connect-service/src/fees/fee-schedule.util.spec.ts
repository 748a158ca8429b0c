import { feeScheduleProblems, toFeeSchedule } from './fee-schedule.util';

describe('feeScheduleProblems', () => {
  it.each([
    ['basis points only', { basis_points: 250 }],
    ['zero and the maximum', { basis_points: 10_000, fixed: { usd: 0 } }],
    [
      'bounds per currency',
      {
        basis_points: 100,
        fixed: { usd: 30, jpy: 50 },
        minimum: { usd: 50 },
        maximum: { usd: 50, eur: 1000 },
      },
    ],
  ])('accepts %s', (_name, input) => {
    expect(feeScheduleProblems(input)).toEqual([]);
  });

  it.each([
    ['not an object', 'abc', 'fee_schedule'],
    ['an array', [1], 'fee_schedule'],
    ['missing basis points', { fixed: { usd: 1 } }, 'fee_schedule.basis_points'],
    ['fractional basis points', { basis_points: 2.5 }, 'fee_schedule.basis_points'],
    ['negative basis points', { basis_points: -1 }, 'fee_schedule.basis_points'],
    ['over 100 %', { basis_points: 10_001 }, 'fee_schedule.basis_points'],
    ['basis points as a string', { basis_points: '250' }, 'fee_schedule.basis_points'],
    ['upper-case currency', { basis_points: 1, fixed: { USD: 30 } }, 'fee_schedule.fixed.USD'],
    ['unknown currency', { basis_points: 1, fixed: { xyz: 30 } }, 'fee_schedule.fixed.xyz'],
    ['float amount', { basis_points: 1, fixed: { usd: 0.3 } }, 'fee_schedule.fixed.usd'],
    ['negative amount', { basis_points: 1, minimum: { usd: -5 } }, 'fee_schedule.minimum.usd'],
    ['amount map not an object', { basis_points: 1, maximum: 5 }, 'fee_schedule.maximum'],
    [
      'minimum above maximum',
      { basis_points: 1, minimum: { usd: 100 }, maximum: { usd: 99 } },
      'fee_schedule.minimum.usd',
    ],
    ['unknown field', { basis_points: 1, percent: 2 }, 'fee_schedule.percent'],
  ])('refuses %s', (_name, input, field) => {
    expect(feeScheduleProblems(input).map((p) => p.field)).toContain(field);
  });

  it('copies only the known fields', () => {
    expect(toFeeSchedule({ basis_points: 5, fixed: { usd: 1 } })).toEqual({
      basis_points: 5,
      fixed: { usd: 1 },
    });
  });
});

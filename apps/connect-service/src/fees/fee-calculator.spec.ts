import type { FeeSchedule } from '@app/database';
import { calculateFee } from './fee-calculator';

const standard: FeeSchedule = { basis_points: 290, fixed: { usd: 30, eur: 25, jpy: 30, kwd: 90 } };

describe('calculateFee', () => {
  it.each<[string, number, string, FeeSchedule, number]>([
    ['USD 2.9% + 30c on $100', 10_000, 'usd', standard, 320],
    ['USD half up: 1 725 × 2.9% = 50.025 → 50', 1_725, 'usd', { basis_points: 290 }, 50],
    ['USD half up: 50 × 1% = 0.5 → 1', 50, 'usd', { basis_points: 100 }, 1],
    ['USD below .5 rounds down: 49 × 1% = 0.49 → 0', 49, 'usd', { basis_points: 100 }, 0],
    ['EUR fixed only', 5_000, 'eur', { basis_points: 0, fixed: { eur: 25 } }, 25],
    ['currency without fixed part', 10_000, 'gbp', standard, 290],
    ['JPY ¥1 000 × 2.9% + ¥30', 1_000, 'jpy', standard, 59],
    ['JPY ¥50 minimum charge', 50, 'jpy', standard, 31],
    ['KWD 10.000 × 2.9% + 0.090 → step 10', 10_000, 'kwd', standard, 380],
    ['KWD rounds half up to 10: 1 235', 10_000, 'kwd', { basis_points: 1_235 }, 1_240],
    ['KWD rounds down below half: 1 234', 10_000, 'kwd', { basis_points: 1_234 }, 1_230],
    ['HUF rounds to whole forints', 100_000, 'huf', { basis_points: 125 }, 1_300],
    ['minimum applies', 100, 'usd', { basis_points: 100, minimum: { usd: 50 } }, 50],
    ['maximum applies', 99_999_999, 'usd', { basis_points: 500, maximum: { usd: 100_000 } }, 100_000],
    [
      'maximum not on the step is floored to it',
      100_000,
      'kwd',
      { basis_points: 1_000, maximum: { kwd: 1_005 } },
      1_000,
    ],
    ['never more than the amount', 60, 'usd', { basis_points: 0, fixed: { usd: 100 } }, 60],
    [
      'minimum above the amount is capped at the amount',
      50,
      'usd',
      { basis_points: 0, minimum: { usd: 500 } },
      50,
    ],
    ['never negative', 10_000, 'usd', { basis_points: -50 }, 0],
    ['100% fee is the whole amount', 99_999_999, 'usd', { basis_points: 10_000 }, 99_999_999],
    ['largest product stays exact', 99_999_999, 'usd', { basis_points: 9_999 }, 99_989_999],
  ])('%s', (_name, amount, currency, schedule, fee) => {
    expect(calculateFee(amount, currency, schedule)).toBe(fee);
    expect(Number.isInteger(fee)).toBe(true);
  });
});

import { allocate, reversalAmounts, splitAmounts } from './split-allocation';

describe('allocate: largest remainder, ties to the earliest', () => {
  it.each<[number, number[], number[]]>([
    [100, [1, 1, 1], [34, 33, 33]],
    [101, [1, 1, 1], [34, 34, 33]],
    [1, [1, 1, 1], [1, 0, 0]],
    [2, [1, 1, 1], [1, 1, 0]],
    [10_000, [5_000, 3_000, 2_000], [5_000, 3_000, 2_000]],
    [9_999, [5_000, 3_000, 2_000], [4_999, 3_000, 2_000]],
    [7, [3_333, 3_333, 3_334], [2, 2, 3]],
    [0, [1, 2], [0, 0]],
    [5, [0, 0], [5, 0]],
    [99_999_999, [1, 2, 3, 4], [10_000_000, 20_000_000, 30_000_000, 39_999_999]],
  ])('allocate(%d, %j) = %j', (total, weights, expected) => {
    const out = allocate(total, weights);
    expect(out).toEqual(expected);
    expect(out.reduce((a, b) => a + b, 0)).toBe(total);
  });
});

describe('splitAmounts', () => {
  it.each<[string, number, number, Parameters<typeof splitAmounts>[2], number[] | null]>([
    [
      'shares of amount − fee',
      10_000,
      500,
      [
        { tenant_id: 'a', share_bps: 5_000 },
        { tenant_id: 'b', share_bps: 5_000 },
      ],
      [4_750, 4_750],
    ],
    [
      'three shares, odd cent to the first',
      10_001,
      0,
      [
        { tenant_id: 'a', share_bps: 3_334 },
        { tenant_id: 'b', share_bps: 3_333 },
        { tenant_id: 'c', share_bps: 3_333 },
      ],
      [3_335, 3_333, 3_333],
    ],
    [
      'fixed first, shares of the rest',
      10_000,
      1_000,
      [
        { tenant_id: 'a', amount: 2_000 },
        { tenant_id: 'b', share_bps: 10_000 },
      ],
      [2_000, 7_000],
    ],
    ['fixed only: the platform keeps the rest', 10_000, 0, [{ tenant_id: 'a', amount: 6_000 }], [6_000]],
    ['fixed beyond what is shared', 10_000, 5_000, [{ tenant_id: 'a', amount: 6_000 }], null],
  ])('%s', (_n, amount, fee, parts, expected) => {
    expect(splitAmounts(amount, fee, parts)).toEqual(expected);
  });
});

describe('reversalAmounts', () => {
  it.each<[string, number, number, number, number[], number[], number[]]>([
    [
      'half of the charge reverses half of each',
      5_000,
      10_000,
      0,
      [5_000, 3_000, 1_500],
      [0, 0, 0],
      [2_500, 1_500, 750],
    ],
    [
      'rounds half up, then largest remainder',
      3_333,
      10_000,
      0,
      [3_334, 3_333, 3_333],
      [0, 0, 0],
      [1_111, 1_111, 1_111],
    ],
    [
      'the last refund takes every rest',
      6_667,
      10_000,
      3_333,
      [3_334, 3_333, 3_333],
      [1_111, 1_111, 1_111],
      [2_223, 2_222, 2_222],
    ],
    ['never more than a transfer’s rest', 100, 10_000, 0, [50, 0], [50, 0], [0, 0]],
  ])('%s', (_n, refund, charge, before, transfers, reversed, expected) => {
    expect(reversalAmounts(refund, charge, before, transfers, reversed)).toEqual(expected);
  });
});

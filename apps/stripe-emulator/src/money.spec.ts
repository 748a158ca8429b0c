import { processingFee, proportional } from './money';

describe('emulator fee rule', () => {
  it.each([
    [50, 31], // 1.45 rounds down
    [500, 45], // 14.5 rounds half up
    [1000, 59],
    [1500, 74], // 43.5 rounds half up
    [2000, 88],
    [10_000, 320],
    [99_999_999, 2_900_030],
  ])('Stripe fee on %i is %i (2.9 %% rounded half up + 30)', (amount, fee) => {
    expect(processingFee(amount)).toBe(fee);
  });

  it('takes proportional shares floored, in integers', () => {
    expect(proportional(1000, 1, 3)).toBe(333);
    expect(proportional(5000, 4000, 10_000)).toBe(2000);
    expect(proportional(100, 5, 0)).toBe(0);
  });
});

import {
  amountProblem,
  amountStepOf,
  decimalsOf,
  isKnownCurrency,
  MAX_AMOUNT,
  minimumAmountOf,
  roundToStep,
} from './currency-rules';

describe('currency rules', () => {
  it.each([
    ['usd', 2, 1, 50],
    ['eur', 2, 1, 50],
    ['gbp', 2, 1, 30],
    ['hkd', 2, 1, 400],
    ['jpy', 0, 1, 50],
    ['krw', 0, 1, 50],
    ['kwd', 3, 10, 500],
    ['bhd', 3, 10, 500],
    ['huf', 2, 100, 100],
    ['twd', 2, 100, 100],
    ['mxn', 2, 1, 1000],
  ])('%s: %i decimals, step %i, minimum %i', (currency, decimals, step, minimum) => {
    expect(decimalsOf(currency)).toBe(decimals);
    expect(amountStepOf(currency)).toBe(step);
    expect(minimumAmountOf(currency)).toBe(minimum);
  });

  it.each([
    ['usd', true],
    ['jpy', true],
    ['kwd', true],
    ['USD', false],
    ['xxx', false],
    ['', false],
  ])('knows %p: %p', (currency, known) => expect(isKnownCurrency(currency)).toBe(known));

  it.each<[unknown, string, string | null]>([
    [1000, 'usd', null],
    [50, 'usd', null],
    [49, 'usd', 'below_minimum'],
    [0, 'usd', 'not_positive'],
    [-100, 'usd', 'not_positive'],
    [10.5, 'usd', 'not_integer'],
    ['1000', 'usd', 'not_integer'],
    [MAX_AMOUNT, 'usd', null],
    [MAX_AMOUNT + 1, 'usd', 'above_maximum'],
    [500, 'jpy', null],
    [49, 'jpy', 'below_minimum'],
    [10_000, 'kwd', null],
    [10_005, 'kwd', 'invalid_step'],
    [490, 'kwd', 'below_minimum'],
    [12_300, 'huf', null],
    [12_345, 'huf', 'invalid_step'],
    [1_050, 'twd', 'invalid_step'],
  ])('amount %p %s → %p', (amount, currency, problem) => {
    expect(amountProblem(amount, currency)?.problem ?? null).toBe(problem);
  });

  it.each([
    [1234, 'usd', 1234],
    [1234, 'kwd', 1230],
    [1235, 'kwd', 1240],
    [1249, 'huf', 1200],
    [1250, 'huf', 1300],
  ])('rounds %i %s half up to its step: %i', (amount, currency, rounded) => {
    expect(roundToStep(amount, currency)).toBe(rounded);
  });
});

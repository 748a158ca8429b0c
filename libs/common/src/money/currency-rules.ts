/**
 * Stripe's money rules (https://docs.stripe.com/currencies): amounts are integers in the
 * currency's minor unit, with per-currency decimals, steps and minimums. Pure functions, no floating point.
 */

/** The largest amount Stripe accepts (8 digits). https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts */
export const MAX_AMOUNT = 99_999_999;

/** Zero-decimal currencies: the amount is in whole units (¥100 is `100`). https://docs.stripe.com/currencies#zero-decimal */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(
  'bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' '),
);

/** Three-decimal currencies: sent with three decimals but the last digit must be 0. https://docs.stripe.com/currencies#three-decimal */
export const THREE_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set('bhd jod kwd omr tnd'.split(' '));

/** Sent with two decimals but only whole units may be charged. https://docs.stripe.com/currencies#special-cases */
export const WHOLE_UNIT_TWO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(['huf', 'twd']);

/** The presentment currencies this service accepts (the subset the emulator knows too). */
export const KNOWN_CURRENCIES: ReadonlySet<string> = new Set([
  ...'usd aed aud bgn brl cad chf cny czk dkk eur gbp hkd huf idr ils inr isk mxn myr nok nzd php pln ron sek sgd thb try twd zar'.split(
    ' ',
  ),
  ...ZERO_DECIMAL_CURRENCIES,
  ...THREE_DECIMAL_CURRENCIES,
]);

/** Minimum charge amounts in minor units (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
const MINIMUMS: Readonly<Record<string, number>> = {
  usd: 50,
  eur: 50,
  aud: 50,
  brl: 50,
  cad: 50,
  chf: 50,
  nzd: 50,
  sgd: 50,
  gbp: 30,
  dkk: 250,
  hkd: 400,
  jpy: 50,
  mxn: 1000,
  nok: 300,
  sek: 300,
};

/**
 * Documented rule for currencies Stripe's table does not list for us: 50 minor units for two-decimal
 * currencies (Stripe's 0.50 floor in the currency itself), 50 units for zero-decimal ones, and 0.500 (500) for
 * three-decimal ones; always rounded up to the currency's step.
 */
function defaultMinimum(currency: string): number {
  if (THREE_DECIMAL_CURRENCIES.has(currency)) return 500;
  return 50;
}

export function isKnownCurrency(currency: string): boolean {
  return KNOWN_CURRENCIES.has(currency);
}

export function decimalsOf(currency: string): 0 | 2 | 3 {
  if (ZERO_DECIMAL_CURRENCIES.has(currency)) return 0;
  if (THREE_DECIMAL_CURRENCIES.has(currency)) return 3;
  return 2;
}

/** The granularity a charge amount must respect: 10 for three-decimal currencies, 100 for HUF/TWD, else 1. */
export function amountStepOf(currency: string): number {
  if (THREE_DECIMAL_CURRENCIES.has(currency)) return 10;
  if (WHOLE_UNIT_TWO_DECIMAL_CURRENCIES.has(currency)) return 100;
  return 1;
}

export function minimumAmountOf(currency: string): number {
  const min = MINIMUMS[currency] ?? defaultMinimum(currency);
  const step = amountStepOf(currency);
  return Math.ceil(min / step) * step;
}

/** Rounds down to the currency's step (a fee rounded down never exceeds what it was bounded by). */
export function floorToStep(amount: number, currency: string): number {
  const step = amountStepOf(currency);
  return Math.floor(amount / step) * step;
}

/** Rounds half up to the currency's step. */
export function roundToStep(amount: number, currency: string): number {
  const step = amountStepOf(currency);
  return Math.floor((amount + step / 2) / step) * step;
}

export type AmountProblem =
  'not_integer' | 'not_positive' | 'below_minimum' | 'above_maximum' | 'invalid_step';

/** Why an amount cannot be charged in `currency` (a known currency), or null when it can. */
export function amountProblem(
  amount: unknown,
  currency: string,
): { problem: AmountProblem; message: string } | null {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
    return { problem: 'not_integer', message: 'amount must be an integer in the currency minor unit' };
  }
  if (amount <= 0) return { problem: 'not_positive', message: 'amount must be positive' };
  if (amount > MAX_AMOUNT)
    return { problem: 'above_maximum', message: `amount must be at most ${MAX_AMOUNT}` };
  const min = minimumAmountOf(currency);
  if (amount < min)
    return { problem: 'below_minimum', message: `amount must be at least ${min} ${currency} minor units` };
  const step = amountStepOf(currency);
  if (amount % step !== 0) {
    const why = THREE_DECIMAL_CURRENCIES.has(currency)
      ? 'three-decimal currencies need the last digit to be 0'
      : 'this currency can only be charged in whole units';
    return { problem: 'invalid_step', message: `amount must be a multiple of ${step} (${why})` };
  }
  return null;
}

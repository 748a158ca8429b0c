import { invalidRequest } from './errors';

/** A subset of Stripe's presentment currencies: https://docs.stripe.com/currencies */
const CURRENCIES = new Set(
  (
    'usd aed aud bgn brl cad chf cny czk dkk eur gbp hkd huf idr ils inr isk jpy krw mxn myr nok nzd php pln ron ' +
    'sek sgd thb try twd zar bif clp djf gnf kmf mga pyg rwf ugx vnd vuv xaf xof xpf bhd jod kwd omr tnd'
  ).split(' '),
);

/** Minimum charge amounts in minor units (STRIPE.md §7); others: the USD-like 50 minor units. */
const MINIMUMS: Record<string, number> = {
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

export const MAX_AMOUNT = 99_999_999;

export function validateCurrency(currency: string, param = 'currency'): void {
  if (!/^[a-z]{3}$/.test(currency) || !CURRENCIES.has(currency)) {
    throw invalidRequest(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, ...`,
      {
        param,
      },
    );
  }
}

export function validateAmount(amount: number, currency: string, param = 'amount'): void {
  if (!Number.isInteger(amount) || amount < 1) {
    throw invalidRequest('This value must be greater than or equal to 1.', {
      param,
      code: 'parameter_invalid_integer',
    });
  }
  if (amount > MAX_AMOUNT) {
    throw invalidRequest('Amount must be no more than 99999999.', { param, code: 'amount_too_large' });
  }
  const min = MINIMUMS[currency] ?? 50;
  if (amount < min) {
    throw invalidRequest(`Amount must be at least ${min} ${currency} minor units.`, {
      param,
      code: 'amount_too_small',
    });
  }
}

/** Stripe's US card pricing (2.9% + 30c) in integer minor units, rounded half up; only for balance transactions. */
export function processingFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

/** Proportional share `part/whole` of `total`, floored, in integers (refund of a fee or a transfer). */
export function proportional(total: number, part: number, whole: number): number {
  return whole === 0 ? 0 : Math.floor((total * part) / whole);
}

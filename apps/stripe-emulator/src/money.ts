// The same currency table and minimums the service validates with (https://docs.stripe.com/currencies): the two never disagree.
import { KNOWN_CURRENCIES, MAX_AMOUNT, minimumAmountOf } from '@app/common/money';
import { invalidRequest } from './errors';

export function validateCurrency(currency: string, param = 'currency'): void {
  if (!/^[a-z]{3}$/.test(currency) || !KNOWN_CURRENCIES.has(currency)) {
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
  const min = minimumAmountOf(currency);
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

import { isKnownCurrency, MAX_AMOUNT } from '@app/common';
import type { FeeSchedule } from '@app/database';

export interface FieldProblem {
  field: string;
  errors: string[];
}

const AMOUNT_MAPS = ['fixed', 'minimum', 'maximum'] as const;
const ALLOWED_KEYS = new Set<string>(['basis_points', ...AMOUNT_MAPS]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Validates a tenant's fee schedule (the shape PaymentsModule reads): integer basis points 0..10000, per-currency
 * amounts as non-negative integers in minor units (never floats: https://docs.stripe.com/currencies#minor-units), currency keys lower-case known
 * ISO codes as Stripe writes them, and minimum ≤ maximum per currency. Returns the problems, empty when valid.
 */
export function feeScheduleProblems(input: unknown, path = 'fee_schedule'): FieldProblem[] {
  if (!isPlainObject(input)) return [{ field: path, errors: ['must be an object or null'] }];
  const problems: FieldProblem[] = [];
  const add = (field: string, error: string) => problems.push({ field: `${path}.${field}`, errors: [error] });

  for (const key of Object.keys(input)) if (!ALLOWED_KEYS.has(key)) add(key, 'is not a fee schedule field');

  const bp = input.basis_points;
  if (!Number.isInteger(bp) || (bp as number) < 0 || (bp as number) > 10_000) {
    add('basis_points', 'must be an integer from 0 to 10000');
  }
  for (const name of AMOUNT_MAPS) {
    const map = input[name];
    if (map === undefined) continue;
    if (!isPlainObject(map)) {
      add(name, 'must be an object of currency → amount in minor units');
      continue;
    }
    for (const [currency, amount] of Object.entries(map)) {
      if (!/^[a-z]{3}$/.test(currency) || !isKnownCurrency(currency)) {
        add(`${name}.${currency}`, 'must be keyed by a known lower-case ISO 4217 currency code');
      }
      if (!Number.isInteger(amount) || (amount as number) < 0 || (amount as number) > MAX_AMOUNT) {
        add(`${name}.${currency}`, `must be an integer from 0 to ${MAX_AMOUNT} (minor units)`);
      }
    }
  }
  const min = input.minimum;
  const max = input.maximum;
  if (isPlainObject(min) && isPlainObject(max)) {
    for (const [currency, low] of Object.entries(min)) {
      const high = max[currency];
      if (typeof low === 'number' && typeof high === 'number' && low > high) {
        add(`minimum.${currency}`, `must not exceed maximum.${currency}`);
      }
    }
  }
  return problems;
}

/** Narrowing helper once `feeScheduleProblems` returned nothing. */
export function toFeeSchedule(input: Record<string, unknown>): FeeSchedule {
  const out: FeeSchedule = { basis_points: input.basis_points as number };
  for (const name of AMOUNT_MAPS) {
    if (input[name] !== undefined) out[name] = { ...(input[name] as Record<string, number>) };
  }
  return out;
}

import { KNOWN_CURRENCIES, MAX_AMOUNT } from '@app/common';
import type { ConditionValue, LeafCondition } from './rule-types';

/** Every amount a payment can have, in minor units (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
export const AMOUNT_RANGE = { lo: 1, hi: MAX_AMOUNT } as const;

const REGIONS = new Intl.DisplayNames(['en'], { type: 'region' });
/** An ISO 3166-1 alpha-2 code ICU knows (what Stripe reports for accounts and cards). */
export function isKnownCountry(code: unknown): boolean {
  if (typeof code !== 'string' || !/^[A-Z]{2}$/.test(code) || code === 'ZZ') return false;
  return REGIONS.of(code) !== code;
}

/** The values a field can take when they are a known finite set (a value outside it never occurs). */
export function valueKnown(field: string): ((v: unknown) => boolean) | null {
  if (field === 'currency') return (v) => typeof v === 'string' && KNOWN_CURRENCIES.has(v);
  if (field === 'account.country' || field === 'card.country') return isKnownCountry;
  return null;
}

const show = (v: ConditionValue): string => JSON.stringify(v);

/** What a field's values are, said once in a problem. */
const NOUN: Record<string, string> = {
  currency: 'a supported currency',
  'account.country': 'a known country',
  'card.country': 'a known country',
};

/** The interval of amounts a numeric leaf allows, or null for eq / in / ne / nin. */
function amountInterval(l: LeafCondition): [number, number] | null {
  const v = l.value as number;
  switch (l.op) {
    case 'lt':
      return [-Infinity, v - 1];
    case 'lte':
      return [-Infinity, v];
    case 'gt':
      return [v + 1, Infinity];
    case 'gte':
      return [v, Infinity];
    case 'between':
      return [(l.value as number[])[0], (l.value as number[])[1]];
    default:
      return null;
  }
}

/**
 * Whether a well-formed leaf holds for every payment or for none, given what its field can be (amounts from 1 to
 * MAX_AMOUNT, supported currencies, known countries); null when it depends on the payment.
 */
export function leafVerdict(l: LeafCondition): { always: boolean; why: string } | null {
  const label = `${l.field} ${l.op} ${show(l.value)}`;
  if (l.field === 'amount') {
    const range = amountInterval(l);
    const inRange = (x: unknown) => typeof x === 'number' && x >= AMOUNT_RANGE.lo && x <= AMOUNT_RANGE.hi;
    let always = false;
    let never = false;
    if (range) {
      never = range[1] < AMOUNT_RANGE.lo || range[0] > AMOUNT_RANGE.hi;
      always = range[0] <= AMOUNT_RANGE.lo && range[1] >= AMOUNT_RANGE.hi;
    } else {
      const values = (Array.isArray(l.value) ? l.value : [l.value]) as unknown[];
      const none = !values.some(inRange);
      if (l.op === 'eq' || l.op === 'in') never = none;
      else always = none;
    }
    if (!always && !never) return null;
    return {
      always,
      why: `${label} ${always ? 'always holds' : 'can never hold'}: amounts are from ${AMOUNT_RANGE.lo} to ${AMOUNT_RANGE.hi}`,
    };
  }
  const known = valueKnown(l.field);
  if (!known || l.op === 'between' || ['lt', 'lte', 'gt', 'gte'].includes(l.op)) return null;
  const values = (Array.isArray(l.value) ? l.value : [l.value]) as unknown[];
  if (values.some(known)) return null;
  const always = l.op === 'ne' || l.op === 'nin';
  const which =
    values.length === 1
      ? `${show(values[0] as ConditionValue)} is not ${NOUN[l.field]}`
      : `none of ${show(values as ConditionValue)} is ${NOUN[l.field]}`;
  return {
    always,
    why: `${label} ${always ? 'always holds' : 'can never hold'}: ${which}`,
  };
}

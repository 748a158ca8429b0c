import { isKnownCountry, leafVerdict } from './rule-domain';
import { validateRuleSet } from './rule-set-validator';
import type { LeafCondition } from './rule-types';

const ok = { charge_type: 'direct' };
const rule = (name: string, when: unknown) => ({ name, when, route: ok });
const messages = (rules: unknown) =>
  validateRuleSet(rules, ok, new Set()).map((p) => `${p.rule ?? '-'}: ${p.message}`);
const leaf = (field: string, op: string, value: unknown) => ({ field, op, value }) as LeafCondition;

describe('leaf conditions against the domain of their field', () => {
  it.each([
    [leaf('amount', 'gte', 0), true],
    [leaf('amount', 'gt', 0), true],
    [leaf('amount', 'lte', 99_999_999), true],
    [leaf('amount', 'between', [0, 100_000_000]), true],
    [leaf('amount', 'ne', 0), true],
    [leaf('amount', 'nin', [-1, 0]), true],
    [leaf('amount', 'lt', 1), false],
    [leaf('amount', 'gt', 99_999_999), false],
    [leaf('amount', 'eq', 0), false],
    [leaf('amount', 'in', [0, -5]), false],
    [leaf('currency', 'eq', 'xyz'), false],
    [leaf('currency', 'in', ['abc', 'xyz']), false],
    [leaf('currency', 'ne', 'xyz'), true],
    [leaf('currency', 'nin', ['abc']), true],
    [leaf('card.country', 'eq', 'XX'), false],
    [leaf('account.country', 'ne', 'QQ'), true],
  ])('%j always holds: %s', (l, always) => {
    expect(leafVerdict(l)?.always).toBe(always);
  });

  it.each([
    leaf('amount', 'gte', 1_000),
    leaf('amount', 'between', [1, 500]),
    leaf('currency', 'eq', 'usd'),
    leaf('currency', 'in', ['xyz', 'eur']),
    leaf('card.country', 'eq', 'KP'),
    leaf('tenant.tier', 'eq', 'gold'),
  ])('%j depends on the payment', (l) => {
    expect(leafVerdict(l)).toBeNull();
  });

  it('knows ISO countries, not made-up ones', () => {
    expect(['US', 'KP', 'XK', 'DE'].every(isKnownCountry)).toBe(true);
    expect(['XX', 'ZZ', 'us', 'USA', 'QQ'].some(isKnownCountry)).toBe(false);
  });
});

describe('validate: conditions given the domain', () => {
  it('an always-true amount condition first: the rule says so, and every later rule is named unreachable', () => {
    expect(
      messages([
        rule('everything', { field: 'amount', op: 'gte', value: 0 }),
        rule('eur', { field: 'currency', op: 'eq', value: 'eur' }),
        rule('big', { field: 'amount', op: 'gt', value: 10_000 }),
      ]),
    ).toEqual([
      'everything: when: amount gte 0 always holds: amounts are from 1 to 99999999',
      'eur: unreachable: the earlier rule "everything" matches every payment',
      'big: unreachable: the earlier rule "everything" matches every payment',
    ]);
  });

  it('an always-true part inside a condition is named with its place, and still shadows what follows', () => {
    const out = messages([
      rule('usd-or-any', {
        any: [
          { field: 'currency', op: 'eq', value: 'usd' },
          { field: 'currency', op: 'nin', value: ['zzz'] },
        ],
      }),
      rule('later', { field: 'card.brand', op: 'eq', value: 'visa' }),
    ]);
    expect(out).toEqual([
      'usd-or-any: when.any[1]: currency nin ["zzz"] always holds: "zzz" is not a supported currency',
      'later: unreachable: the earlier rule "usd-or-any" matches every payment',
    ]);
  });

  it('always-false conditions: a currency or country that does not exist, an amount below 1', () => {
    expect(
      messages([
        rule('typo', { field: 'currency', op: 'eq', value: 'usdd' }),
        rule('nowhere', { field: 'card.country', op: 'eq', value: 'XX' }),
        rule('free', { field: 'amount', op: 'lte', value: 0 }),
      ]),
    ).toEqual([
      'typo: when: currency eq "usdd" can never hold: "usdd" is not a supported currency',
      'nowhere: when: card.country eq "XX" can never hold: "XX" is not a known country',
      'free: when: amount lte 0 can never hold: amounts are from 1 to 99999999',
    ]);
  });

  it('amount tiers that overlap are reported with both names and the shared amounts', () => {
    expect(
      messages([
        rule('small', { field: 'amount', op: 'between', value: [1, 1_000] }),
        rule('medium', { field: 'amount', op: 'between', value: [1_000, 5_000] }),
        rule('large', { field: 'amount', op: 'gt', value: 5_000 }),
      ]),
    ).toEqual([`medium: overlaps "small" on amount 1000..1000: those payments take "small"'s route`]);
  });

  it('a narrower range before a broader one, and disjoint tiers, are fine', () => {
    expect(
      messages([
        rule('huge', { field: 'amount', op: 'gt', value: 1_000_000 }),
        rule('big', { field: 'amount', op: 'gt', value: 10_000 }),
        rule('small', { field: 'amount', op: 'lte', value: 500 }),
        rule('mid', { field: 'amount', op: 'between', value: [501, 10_000] }),
      ]),
    ).toEqual([]);
  });
});

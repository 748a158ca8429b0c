import { referencedTenants, toDnf, validateRuleSet } from './rule-set-validator';
import type { Condition } from './rule-types';

const known = new Set(['tenant_a', 'tenant_b', 'tenant_c']);
const ok = { charge_type: 'direct' };
const rule = (name: string, when: unknown, route: unknown = ok, extra: Record<string, unknown> = {}) => ({
  name,
  when,
  route,
  ...extra,
});
const messages = (rules: unknown, def: unknown = ok) =>
  validateRuleSet(rules, def, known).map((p) => `${p.rule ?? '-'}: ${p.message}`);

describe('validate: a well-formed rule set has no problems', () => {
  it('the docs/routing.md example', () => {
    const rules = [
      rule(
        'large',
        { field: 'amount', op: 'gt', value: 1_000_000 },
        { capture_method: 'manual', fee: { basis_points: 350 } },
      ),
      rule('gold', { field: 'tenant.tier', op: 'eq', value: 'gold' }, { fee: { basis_points: 150 } }),
      rule(
        'eur',
        { field: 'currency', op: 'eq', value: 'eur' },
        { charge_type: 'destination', on_behalf_of: true },
      ),
      rule(
        'small-usd',
        {
          all: [
            { field: 'currency', op: 'eq', value: 'usd' },
            { field: 'amount', op: 'lte', value: 5_000 },
          ],
        },
        ok,
        { alternatives: [{ charge_type: 'destination' }] },
      ),
      rule(
        'split',
        { field: 'metadata.cart', op: 'eq', value: 'multi' },
        {
          charge_type: 'separate',
          split: [
            { tenant_id: 'tenant_a', share_bps: 6_000 },
            { tenant_id: 'tenant_b', share_bps: 4_000 },
          ],
        },
      ),
      rule('experiment', { field: 'card.brand', op: 'in', value: ['visa', 'amex'] }, undefined, {
        split_volume: [
          { weight: 9, route: ok },
          { weight: 1, route: { fee: { basis_points: 100 } } },
        ],
      }),
    ];
    expect(messages(rules)).toEqual([]);
  });
});

describe('validate: every static check', () => {
  it.each<[string, unknown, unknown, string]>([
    ['no default route', [], null, '-: default: every rule set needs a default route'],
    ['rules not a list', {}, ok, '-: rules: must be a list'],
    [
      'a rule without a name',
      [{ when: { field: 'amount', op: 'gt', value: 1 }, route: ok }],
      ok,
      '#1: name: 1 to 200 characters',
    ],
    [
      'duplicate names',
      [
        rule('x', { field: 'amount', op: 'gt', value: 1 }),
        rule('x', { field: 'currency', op: 'eq', value: 'eur' }),
      ],
      ok,
      'x: name: "x" is used by an earlier rule',
    ],
    [
      'unknown field',
      [rule('u', { field: 'shoe.size', op: 'eq', value: 42 })],
      ok,
      'u: when: unknown field "shoe.size"',
    ],
    [
      'keyed field without a key',
      [rule('u', { field: 'metadata.', op: 'eq', value: 'x' })],
      ok,
      'u: when: unknown field "metadata."',
    ],
    [
      'unknown operator',
      [rule('o', { field: 'amount', op: 'approx', value: 1 })],
      ok,
      'o: when: unknown operator "approx" (one of eq, ne, lt, lte, gt, gte, in, nin, between)',
    ],
    [
      'comparison on a string field',
      [rule('c', { field: 'currency', op: 'gt', value: 1 })],
      ok,
      'c: when: gt compares numbers; currency is not numeric',
    ],
    [
      'amount compared with a string',
      [rule('c', { field: 'amount', op: 'eq', value: '10' })],
      ok,
      'c: when: amount compares with an integer',
    ],
    [
      'in without a list',
      [rule('i', { field: 'currency', op: 'in', value: 'usd' })],
      ok,
      'i: when: in takes a non-empty list',
    ],
    [
      'between upside down',
      [rule('b', { field: 'amount', op: 'between', value: [10, 1] })],
      ok,
      "b: when: between's low is above its high",
    ],
    [
      'upper-case currency',
      [rule('u', { field: 'currency', op: 'eq', value: 'USD' })],
      ok,
      'u: when: currencies are lower case (usd)',
    ],
    ['empty all', [rule('e', { all: [] })], ok, 'e: when.all: must be a non-empty list'],
    [
      'a condition neither leaf nor group',
      [rule('n', { foo: 1 })],
      ok,
      'n: when: needs a field, or all / any / not',
    ],
    [
      'unreachable behind a broader rule',
      [
        rule('broad', { field: 'amount', op: 'gt', value: 100 }),
        rule('narrow', { field: 'amount', op: 'gt', value: 1_000 }),
      ],
      ok,
      'narrow: unreachable: every payment it matches is matched by an earlier rule',
    ],
    [
      'unreachable: same currency, earlier without the amount limit',
      [
        rule('eur', { field: 'currency', op: 'eq', value: 'eur' }),
        rule('eur-small', {
          all: [
            { field: 'currency', op: 'in', value: ['eur'] },
            { field: 'amount', op: 'lt', value: 500 },
          ],
        }),
      ],
      ok,
      'eur-small: unreachable: every payment it matches is matched by an earlier rule',
    ],
    [
      'unreachable: each disjunct covered by an earlier rule',
      [
        rule('eur', { field: 'currency', op: 'eq', value: 'eur' }),
        rule('gbp', { field: 'currency', op: 'eq', value: 'gbp' }),
        rule('both', {
          any: [
            { field: 'currency', op: 'eq', value: 'gbp' },
            { field: 'currency', op: 'eq', value: 'eur' },
          ],
        }),
      ],
      ok,
      'both: unreachable: every payment it matches is matched by an earlier rule',
    ],
    [
      'never matches: a contradiction',
      [
        rule('never', {
          all: [
            { field: 'amount', op: 'gt', value: 100 },
            { field: 'amount', op: 'lt', value: 50 },
          ],
        }),
      ],
      ok,
      'never: never matches: its conditions contradict each other',
    ],
    [
      'never matches through not',
      [
        rule('never', {
          all: [
            { field: 'currency', op: 'eq', value: 'usd' },
            { not: { field: 'currency', op: 'in', value: ['usd', 'eur'] } },
          ],
        }),
      ],
      ok,
      'never: never matches: its conditions contradict each other',
    ],
    [
      'split shares do not add up',
      [
        rule(
          's',
          { field: 'amount', op: 'gt', value: 1 },
          {
            split: [
              { tenant_id: 'tenant_a', share_bps: 6_000 },
              { tenant_id: 'tenant_b', share_bps: 3_000 },
            ],
          },
        ),
      ],
      ok,
      's: route.split: share_bps add up to 9000, not 10000',
    ],
    [
      'split part with both amount and share',
      [
        rule(
          's',
          { field: 'amount', op: 'gt', value: 1 },
          { split: [{ tenant_id: 'tenant_a', amount: 100, share_bps: 10_000 }] },
        ),
      ],
      ok,
      's: route.split[0]: exactly one of amount or share_bps',
    ],
    [
      'split on a direct charge',
      [
        rule(
          's',
          { field: 'amount', op: 'gt', value: 1 },
          { charge_type: 'direct', split: [{ tenant_id: 'tenant_a', share_bps: 10_000 }] },
        ),
      ],
      ok,
      's: route.split: a split is a separate charge (charge_type separate)',
    ],
    [
      'split to a tenant without an account',
      [
        rule(
          's',
          { field: 'amount', op: 'gt', value: 1 },
          { split: [{ tenant_id: 'tenant_zzz', share_bps: 10_000 }] },
        ),
      ],
      ok,
      's: route.split[0]: tenant tenant_zzz has no connected account',
    ],
    [
      'split naming a tenant twice',
      [
        rule(
          's',
          { field: 'amount', op: 'gt', value: 1 },
          {
            split: [
              { tenant_id: 'tenant_a', share_bps: 5_000 },
              { tenant_id: 'tenant_a', share_bps: 5_000 },
            ],
          },
        ),
      ],
      ok,
      's: route.split[1]: tenant tenant_a appears twice',
    ],
    [
      'on_behalf_of on a direct charge',
      [rule('o', { field: 'amount', op: 'gt', value: 1 }, { charge_type: 'direct', on_behalf_of: true })],
      ok,
      'o: route.on_behalf_of: applies to destination charges only',
    ],
    [
      'unknown charge type',
      [rule('c', { field: 'amount', op: 'gt', value: 1 }, { charge_type: 'magic' })],
      ok,
      'c: route.charge_type: one of direct, destination, separate',
    ],
    [
      'not a route field',
      [rule('c', { field: 'amount', op: 'gt', value: 1 }, { speed: 'fast' })],
      ok,
      'c: route.speed: not a route field',
    ],
    [
      'bad fee schedule',
      [rule('f', { field: 'amount', op: 'gt', value: 1 }, { fee: { basis_points: 20_000 } })],
      ok,
      'f: route.fee.basis_points: must be an integer from 0 to 10000',
    ],
    [
      'block without a reason',
      [rule('b', { field: 'amount', op: 'gt', value: 1 }, { block: {} })],
      ok,
      'b: route.block: needs a reason',
    ],
    [
      'bad capture method',
      [rule('m', { field: 'amount', op: 'gt', value: 1 }, { capture_method: 'later' })],
      ok,
      'm: route.capture_method: automatic or manual',
    ],
    [
      'descriptor suffix too long',
      [rule('d', { field: 'amount', op: 'gt', value: 1 }, { statement_descriptor_suffix: 'x'.repeat(23) })],
      ok,
      'd: route.statement_descriptor_suffix: 1 to 22 characters',
    ],
    [
      'bad alternative',
      [rule('a', { field: 'amount', op: 'gt', value: 1 }, ok, { alternatives: [{ charge_type: 'wire' }] })],
      ok,
      'a: alternatives[0].charge_type: one of direct, destination, separate',
    ],
    [
      'volume weight not positive',
      [
        rule('v', { field: 'amount', op: 'gt', value: 1 }, ok, {
          split_volume: [
            { weight: 0, route: ok },
            { weight: 1, route: ok },
          ],
        }),
      ],
      ok,
      'v: split_volume[0].weight: a positive integer',
    ],
    [
      'volume split of one',
      [rule('v', { field: 'amount', op: 'gt', value: 1 }, ok, { split_volume: [{ weight: 1, route: ok }] })],
      ok,
      'v: split_volume: a list of at least two {weight, route}',
    ],
    [
      'bad default route',
      [],
      { charge_type: 'wire' },
      '-: default.charge_type: one of direct, destination, separate',
    ],
  ])('%s', (_name, rules, def, expected) => {
    expect(messages(rules, def)).toContain(expected);
  });

  it('a narrower rule before a broader one is fine', () => {
    expect(
      messages([
        rule('narrow', { field: 'amount', op: 'gt', value: 1_000 }),
        rule('broad', { field: 'amount', op: 'gt', value: 100 }),
        rule('eur', {
          all: [
            { field: 'currency', op: 'eq', value: 'eur' },
            { field: 'amount', op: 'lt', value: 50 },
          ],
        }),
        rule('not-eur', { field: 'currency', op: 'ne', value: 'eur' }),
      ]),
    ).toEqual([]);
  });
});

describe('validator helpers', () => {
  it('lists the tenants a rule set names', () => {
    expect(
      referencedTenants(
        [
          rule(
            't',
            {
              any: [
                { field: 'tenant_id', op: 'in', value: ['tenant_a', 'tenant_b'] },
                { field: 'tenant_id', op: 'ne', value: 'tenant_x' },
              ],
            },
            {
              split: [{ tenant_id: 'tenant_c', share_bps: 10_000 }],
            },
          ),
        ],
        ok,
      ).sort(),
    ).toEqual(['tenant_a', 'tenant_b', 'tenant_c']);
  });

  it('puts conditions in disjunctive normal form', () => {
    const a: Condition = { field: 'amount', op: 'gt', value: 1 };
    const b: Condition = { field: 'currency', op: 'eq', value: 'usd' };
    expect(toDnf({ all: [a, { any: [b, { not: b }] }] })).toEqual([
      [a, b],
      [a, { field: 'currency', op: 'ne', value: 'usd' }],
    ]);
  });
});

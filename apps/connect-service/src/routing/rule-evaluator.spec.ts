import { randomUUID } from 'node:crypto';
import { CompiledRuleSet, compileCondition, volumeBucket } from './rule-evaluator';
import type { Condition, PaymentContext, Route, RuleSetDefinition } from './rule-types';

const ctx = (over: Partial<PaymentContext> = {}): PaymentContext => ({
  route_id: '00000000-0000-4000-8000-000000000001',
  amount: 2_000,
  currency: 'usd',
  tenant_id: 'tenant_a',
  tenant: { tier: 'gold' },
  account: {
    country: 'US',
    status: 'active',
    capabilities: { card_payments: 'active', transfers: 'inactive' },
  },
  payment_method_type: 'card',
  card: { brand: 'visa', country: 'DE' },
  metadata: { channel: 'web' },
  ...over,
});

describe('rule evaluator: every operator', () => {
  it.each<[string, Condition, boolean]>([
    ['eq number', { field: 'amount', op: 'eq', value: 2_000 }, true],
    ['eq number, other', { field: 'amount', op: 'eq', value: 2_001 }, false],
    ['eq string', { field: 'currency', op: 'eq', value: 'usd' }, true],
    ['eq is case-sensitive', { field: 'currency', op: 'eq', value: 'USD' }, false],
    ['ne', { field: 'currency', op: 'ne', value: 'eur' }, true],
    ['ne, equal', { field: 'currency', op: 'ne', value: 'usd' }, false],
    ['lt', { field: 'amount', op: 'lt', value: 2_001 }, true],
    ['lt at the edge', { field: 'amount', op: 'lt', value: 2_000 }, false],
    ['lte at the edge', { field: 'amount', op: 'lte', value: 2_000 }, true],
    ['lte below', { field: 'amount', op: 'lte', value: 1_999 }, false],
    ['gt', { field: 'amount', op: 'gt', value: 1_999 }, true],
    ['gt at the edge', { field: 'amount', op: 'gt', value: 2_000 }, false],
    ['gte at the edge', { field: 'amount', op: 'gte', value: 2_000 }, true],
    ['gte above', { field: 'amount', op: 'gte', value: 2_001 }, false],
    ['lt on a string never matches', { field: 'currency', op: 'lt', value: 5 }, false],
    ['in', { field: 'currency', op: 'in', value: ['eur', 'usd'] }, true],
    ['in, absent', { field: 'currency', op: 'in', value: ['eur', 'gbp'] }, false],
    ['nin', { field: 'currency', op: 'nin', value: ['eur', 'gbp'] }, true],
    ['nin, present', { field: 'currency', op: 'nin', value: ['usd'] }, false],
    ['between inclusive low', { field: 'amount', op: 'between', value: [2_000, 3_000] }, true],
    ['between inclusive high', { field: 'amount', op: 'between', value: [1_000, 2_000] }, true],
    ['between outside', { field: 'amount', op: 'between', value: [2_001, 3_000] }, false],
    ['tenant label', { field: 'tenant.tier', op: 'eq', value: 'gold' }, true],
    ['tenant_id', { field: 'tenant_id', op: 'in', value: ['tenant_a'] }, true],
    ['account.country', { field: 'account.country', op: 'eq', value: 'US' }, true],
    ['account.status', { field: 'account.status', op: 'eq', value: 'active' }, true],
    ['capability', { field: 'account.capabilities.transfers', op: 'eq', value: 'inactive' }, true],
    ['payment_method_type', { field: 'payment_method_type', op: 'eq', value: 'card' }, true],
    ['card.brand', { field: 'card.brand', op: 'eq', value: 'visa' }, true],
    ['card.country', { field: 'card.country', op: 'nin', value: ['US'] }, true],
    ['metadata key', { field: 'metadata.channel', op: 'eq', value: 'web' }, true],
    ['missing metadata key: eq is false', { field: 'metadata.nope', op: 'eq', value: 'web' }, false],
    ['missing metadata key: ne is true', { field: 'metadata.nope', op: 'ne', value: 'web' }, true],
    ['missing label: nin is true', { field: 'tenant.region', op: 'nin', value: ['eu'] }, true],
    ['unknown field never matches', { field: 'shoe.size', op: 'eq', value: 42 }, false],
  ])('%s', (_name, condition, expected) => {
    expect(compileCondition(condition)(ctx())).toBe(expected);
  });

  it('a missing card is absent, not an error', () => {
    expect(compileCondition({ field: 'card.brand', op: 'eq', value: 'visa' })(ctx({ card: null }))).toBe(
      false,
    );
    expect(
      compileCondition({ field: 'account.country', op: 'ne', value: 'US' })(ctx({ account: null })),
    ).toBe(true);
  });
});

describe('rule evaluator: nesting', () => {
  const usd: Condition = { field: 'currency', op: 'eq', value: 'usd' };
  const big: Condition = { field: 'amount', op: 'gt', value: 10_000 };
  const gold: Condition = { field: 'tenant.tier', op: 'eq', value: 'gold' };
  it.each<[string, Condition, boolean]>([
    ['all true', { all: [usd, gold] }, true],
    ['all, one false', { all: [usd, big] }, false],
    ['any, one true', { any: [big, gold] }, true],
    ['any, none true', { any: [big, { not: usd }] }, false],
    ['not', { not: big }, true],
    ['not not', { not: { not: big } }, false],
    ['all of any', { all: [{ any: [big, usd] }, { any: [gold, big] }] }, true],
    ['any of all', { any: [{ all: [usd, big] }, { all: [gold, { not: big }] }] }, true],
    ['deep', { not: { any: [{ all: [usd, { not: gold }] }, big] } }, true],
  ])('%s', (_name, condition, expected) => {
    expect(compileCondition(condition)(ctx())).toBe(expected);
  });

  it('records each leaf checked, with what the field held', () => {
    const checks: unknown[] = [];
    compileCondition({ all: [usd, big] })(ctx(), checks as never);
    expect(checks).toEqual([
      { field: 'currency', op: 'eq', value: 'usd', actual: 'usd', result: true },
      { field: 'amount', op: 'gt', value: 10_000, actual: 2_000, result: false },
    ]);
  });
});

describe('rule evaluator: first match, default, volume split', () => {
  const A: Route = { charge_type: 'direct', fee: { basis_points: 100 } };
  const B: Route = { charge_type: 'destination' };
  const C: Route = { charge_type: 'direct', fee: { basis_points: 200 } };
  const D: Route = { charge_type: 'direct' };
  const def: RuleSetDefinition = {
    rules: [
      { name: 'usd', when: { field: 'currency', op: 'eq', value: 'usd' }, route: A, alternatives: [B] },
      { name: 'small', when: { field: 'amount', op: 'lt', value: 5_000 }, route: B },
    ],
    default: D,
  };
  const set = new CompiledRuleSet(def);

  it.each<[string, Partial<PaymentContext>, string | null, Route]>([
    ['first of two matching rules wins', { currency: 'usd', amount: 100 }, 'usd', A],
    ['the second when the first does not match', { currency: 'eur', amount: 100 }, 'small', B],
    ['the default when none matches', { currency: 'eur', amount: 9_000 }, null, D],
  ])('%s', (_n, over, rule, route) => {
    const d = set.evaluate(ctx(over));
    expect(d.rule).toBe(rule);
    expect(d.route).toBe(route);
  });

  it('answers the rule’s alternatives and a trace only when asked', () => {
    expect(set.evaluate(ctx()).alternatives).toEqual([B]);
    expect(set.evaluate(ctx()).trace).toEqual([]);
    const traced = set.evaluate(ctx({ currency: 'eur', amount: 9_000 }), true).trace;
    expect(traced.map((t) => [t.rule, t.matched])).toEqual([
      ['usd', false],
      ['small', false],
    ]);
  });

  const split = new CompiledRuleSet({
    rules: [
      {
        name: 'experiment',
        when: { field: 'amount', op: 'gt', value: 0 },
        route: A,
        split_volume: [
          { weight: 90, route: A },
          { weight: 10, route: C },
        ],
      },
    ],
    default: D,
  });

  it('a volume split chooses by the route id: the same id, the same branch, every time', () => {
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const first = ids.map((id) => split.evaluate(ctx({ route_id: id })).route);
    const again = ids.map(
      (id) => new CompiledRuleSet(split['definition']).evaluate(ctx({ route_id: id })).route,
    );
    expect(again).toEqual(first);
    const bucket = volumeBucket(ids[0], 100);
    expect(first[0]).toBe(bucket < 90 ? A : C);
  });

  it('a volume split follows the weights over many ids', () => {
    let c = 0;
    for (let i = 0; i < 10_000; i++) if (split.evaluate(ctx({ route_id: `id-${i}` })).route === C) c++;
    expect(c).toBeGreaterThan(800);
    expect(c).toBeLessThan(1_200);
  });

  it.each([
    ['00000000-0000-4000-8000-000000000001', 100],
    ['ffffffff-ffff-4fff-bfff-ffffffffffff', 7],
  ])('volumeBucket(%s, %d) is stable and in range', (id, total) => {
    const b = volumeBucket(id, total);
    expect(b).toBe(volumeBucket(id, total));
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(total);
  });
});

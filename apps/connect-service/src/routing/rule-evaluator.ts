import { createHash } from 'node:crypto';
import type {
  Condition,
  ConditionValue,
  LeafCondition,
  PaymentContext,
  Route,
  Rule,
  RuleSetDefinition,
} from './rule-types';

/** One leaf condition as evaluated: what the field held and whether it matched. */
export interface ConditionCheck {
  field: string;
  op: string;
  value: ConditionValue;
  actual: unknown;
  result: boolean;
}

export interface TraceStep {
  rule: string;
  matched: boolean;
  checks: ConditionCheck[];
  /** Volume splits: the bucket the route id hashed to (0 ≤ bucket < total weight) and the branch chosen. */
  volume?: { bucket: number; total_weight: number; branch: number };
}

/** The outcome of evaluating a payment: the deciding rule (null: the default) and the route to take. */
export interface Decision {
  rule: string | null;
  route: Route;
  /** Tried in order when `route` cannot serve (not eligible, or refused by Stripe on the account's side). */
  alternatives: Route[];
  trace: TraceStep[];
}

type Predicate = (ctx: PaymentContext, checks?: ConditionCheck[]) => boolean;
type Getter = (ctx: PaymentContext) => unknown;

function getterOf(field: string): Getter {
  switch (field) {
    case 'amount':
      return (c) => c.amount;
    case 'currency':
      return (c) => c.currency;
    case 'tenant_id':
      return (c) => c.tenant_id;
    case 'account.country':
      return (c) => c.account?.country ?? undefined;
    case 'account.status':
      return (c) => c.account?.status;
    case 'payment_method_type':
      return (c) => c.payment_method_type ?? undefined;
    case 'card.brand':
      return (c) => c.card?.brand ?? undefined;
    case 'card.country':
      return (c) => c.card?.country ?? undefined;
  }
  const keyed = (prefix: string, pick: (c: PaymentContext) => Record<string, string> | undefined) => {
    const key = field.slice(prefix.length);
    return (c: PaymentContext) => pick(c)?.[key];
  };
  if (field.startsWith('account.capabilities.'))
    return keyed('account.capabilities.', (c) => c.account?.capabilities);
  if (field.startsWith('tenant.')) return keyed('tenant.', (c) => c.tenant);
  if (field.startsWith('metadata.')) return keyed('metadata.', (c) => c.metadata);
  // The validator refuses unknown fields before activation; a stored one never matches.
  return () => undefined;
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The test of one operator against its (constant) value; a missing field only satisfies ne and nin. */
function testOf(op: string, value: ConditionValue): (actual: unknown) => boolean {
  switch (op) {
    case 'eq':
      return (a) => a === value;
    case 'ne':
      return (a) => a !== value;
    case 'lt':
      return (a) => num(a) && num(value) && a < value;
    case 'lte':
      return (a) => num(a) && num(value) && a <= value;
    case 'gt':
      return (a) => num(a) && num(value) && a > value;
    case 'gte':
      return (a) => num(a) && num(value) && a >= value;
    case 'in': {
      const set = new Set<unknown>(Array.isArray(value) ? value : []);
      return (a) => set.has(a);
    }
    case 'nin': {
      const set = new Set<unknown>(Array.isArray(value) ? value : []);
      return (a) => !set.has(a);
    }
    case 'between': {
      const [lo, hi] = Array.isArray(value) ? value : [];
      return (a) => num(a) && num(lo) && num(hi) && a >= lo && a <= hi;
    }
    default:
      return () => false;
  }
}

export const isLeaf = (c: Condition): c is LeafCondition => 'field' in c;

/** Compiles a condition to one closure: all/any short-circuit; checks are recorded only when asked. */
export function compileCondition(c: Condition): Predicate {
  if (isLeaf(c)) {
    const get = getterOf(c.field);
    const test = testOf(c.op, c.value);
    return (ctx, checks) => {
      const actual = get(ctx);
      const result = test(actual);
      checks?.push({ field: c.field, op: c.op, value: c.value, actual: actual ?? null, result });
      return result;
    };
  }
  if ('all' in c) {
    const parts = c.all.map(compileCondition);
    return (ctx, checks) => {
      for (const p of parts) if (!p(ctx, checks)) return false;
      return true;
    };
  }
  if ('any' in c) {
    const parts = c.any.map(compileCondition);
    return (ctx, checks) => {
      for (const p of parts) if (p(ctx, checks)) return true;
      return false;
    };
  }
  const inner = compileCondition(c.not);
  return (ctx, checks) => !inner(ctx, checks);
}

/**
 * The volume-split bucket of a route id: the first 48 bits of its SHA-256 modulo the total weight. Stable across
 * processes and replays (a replay of a stored payment hashes its stored id and lands on the same branch).
 */
export function volumeBucket(routeId: string, totalWeight: number): number {
  const h = createHash('sha256').update(routeId).digest();
  return h.readUIntBE(0, 6) % totalWeight;
}

interface CompiledRule {
  rule: Rule;
  matches: Predicate;
  cumulative: number[];
  totalWeight: number;
}

/** A rule set compiled once per version: evaluation is closures only, no parsing per payment. */
export class CompiledRuleSet {
  private readonly rules: CompiledRule[];

  constructor(private readonly definition: RuleSetDefinition) {
    this.rules = definition.rules.map((rule) => {
      const cumulative: number[] = [];
      let total = 0;
      for (const branch of rule.split_volume ?? []) cumulative.push((total += Math.max(0, branch.weight)));
      return { rule, matches: compileCondition(rule.when), cumulative, totalWeight: total };
    });
  }

  /** The first matching rule wins; none matching takes the default route. */
  evaluate(ctx: PaymentContext, withTrace = false): Decision {
    const trace: TraceStep[] = [];
    for (const r of this.rules) {
      const checks: ConditionCheck[] | undefined = withTrace ? [] : undefined;
      const matched = r.matches(ctx, checks);
      const step: TraceStep | undefined = withTrace
        ? { rule: r.rule.name, matched, checks: checks ?? [] }
        : undefined;
      if (step) trace.push(step);
      if (!matched) continue;
      let route = r.rule.route;
      if (r.totalWeight > 0) {
        const bucket = volumeBucket(ctx.route_id, r.totalWeight);
        const branch = r.cumulative.findIndex((edge) => bucket < edge);
        route = r.rule.split_volume![branch].route;
        if (step) step.volume = { bucket, total_weight: r.totalWeight, branch };
      }
      return { rule: r.rule.name, route, alternatives: r.rule.alternatives ?? [], trace };
    }
    return { rule: null, route: this.definition.default, alternatives: [], trace };
  }
}

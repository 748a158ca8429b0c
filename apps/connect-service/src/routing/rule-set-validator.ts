import { feeScheduleProblems } from '../fees/fee-schedule.util';
import { AMOUNT_RANGE, leafVerdict, valueKnown } from './rule-domain';
import {
  CHARGE_TYPES,
  Condition,
  ConditionValue,
  isKnownField,
  LeafCondition,
  NUMERIC_FIELDS,
  OPERATORS,
  Rule,
} from './rule-types';

/** One static problem; `rule` is the rule's name, or null for the rule set itself and its default route. */
export interface RuleSetProblem {
  rule: string | null;
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);

/** Tenant ids a rule set names (split parts, tenant_id conditions): the service checks they exist. */
export function referencedTenants(rules: unknown, def: unknown): string[] {
  const out = new Set<string>();
  const fromRoute = (r: unknown) => {
    if (!isObj(r) || !Array.isArray(r.split)) return;
    for (const p of r.split) if (isObj(p) && typeof p.tenant_id === 'string') out.add(p.tenant_id);
  };
  const fromCond = (c: unknown): void => {
    if (!isObj(c)) return;
    if (c.field === 'tenant_id') {
      const vals: unknown[] = Array.isArray(c.value) ? c.value : [c.value];
      for (const v of vals) if (typeof v === 'string' && c.op !== 'ne' && c.op !== 'nin') out.add(v);
    }
    for (const k of ['all', 'any'] as const) if (Array.isArray(c[k])) (c[k] as unknown[]).forEach(fromCond);
    if (c.not) fromCond(c.not);
  };
  fromRoute(def);
  if (Array.isArray(rules)) {
    for (const r of rules) {
      if (!isObj(r)) continue;
      fromCond(r.when);
      fromRoute(r.route);
      if (Array.isArray(r.alternatives)) r.alternatives.forEach(fromRoute);
      if (Array.isArray(r.split_volume)) for (const b of r.split_volume) if (isObj(b)) fromRoute(b.route);
    }
  }
  return [...out];
}

function conditionProblems(c: unknown, at: string, add: (m: string) => void, depth = 0): void {
  if (depth > 16) return add(`${at}: nested deeper than 16 levels`);
  if (!isObj(c)) return add(`${at}: a condition must be an object`);
  const keys = Object.keys(c);
  if ('all' in c || 'any' in c) {
    const k = 'all' in c ? 'all' : 'any';
    if (keys.length !== 1) return add(`${at}: "${k}" stands alone in its object`);
    const list = c[k];
    if (!Array.isArray(list) || list.length === 0) return add(`${at}.${k}: must be a non-empty list`);
    list.forEach((x, i) => conditionProblems(x, `${at}.${k}[${i}]`, add, depth + 1));
    return;
  }
  if ('not' in c) {
    if (keys.length !== 1) return add(`${at}: "not" stands alone in its object`);
    return conditionProblems(c.not, `${at}.not`, add, depth + 1);
  }
  const { field, op, value } = c;
  if (typeof field !== 'string') return add(`${at}: needs a field, or all / any / not`);
  if (!isKnownField(field)) return add(`${at}: unknown field "${field}"`);
  if (!(OPERATORS as readonly string[]).includes(op as string))
    return add(`${at}: unknown operator "${String(op)}" (one of ${OPERATORS.join(', ')})`);
  const numeric = NUMERIC_FIELDS.has(field);
  if (op === 'in' || op === 'nin') {
    if (!Array.isArray(value) || value.length === 0) return add(`${at}: ${op} takes a non-empty list`);
    if (numeric && !value.every(isInt)) add(`${at}: ${field} compares with integers`);
    return;
  }
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2 || !value.every(isInt))
      return add(`${at}: between takes [low, high] integers`);
    if ((value[0] as number) > (value[1] as number)) add(`${at}: between's low is above its high`);
    if (!numeric) add(`${at}: between compares numbers; ${field} is not numeric`);
    return;
  }
  if (['lt', 'lte', 'gt', 'gte'].includes(op as string)) {
    if (!numeric) return add(`${at}: ${String(op)} compares numbers; ${field} is not numeric`);
    if (!isInt(value)) add(`${at}: ${field} compares with an integer`);
    return;
  }
  if (numeric && !isInt(value)) add(`${at}: ${field} compares with an integer`);
  else if (!numeric && typeof value !== 'string' && typeof value !== 'boolean')
    add(`${at}: ${field} compares with a string`);
  if (field === 'currency' && typeof value === 'string' && value !== value.toLowerCase())
    add(`${at}: currencies are lower case (${value.toLowerCase()})`);
}

/** In a well-formed condition, each leaf that holds for every payment or for none: a typo, an off-by-one. */
function domainProblems(c: Condition, at: string, add: (m: string) => void): void {
  if ('all' in c || 'any' in c) {
    const k = 'all' in c ? 'all' : 'any';
    return ('all' in c ? c.all : c.any).forEach((x, i) => domainProblems(x, `${at}.${k}[${i}]`, add));
  }
  if ('not' in c) return domainProblems(c.not, `${at}.not`, add);
  const verdict = leafVerdict(c);
  if (verdict) add(`${at}: ${verdict.why}`);
}

function routeProblems(r: unknown, at: string, add: (m: string) => void, known: Set<string>): void {
  if (!isObj(r)) return add(`${at}: a route must be an object`);
  const allowed = [
    'charge_type',
    'fee',
    'on_behalf_of',
    'capture_method',
    'statement_descriptor_suffix',
    'split',
    'block',
  ];
  for (const k of Object.keys(r)) if (!allowed.includes(k)) add(`${at}.${k}: not a route field`);
  if (r.block !== undefined) {
    if (!isObj(r.block) || typeof r.block.reason !== 'string' || !r.block.reason)
      add(`${at}.block: needs a reason`);
    return;
  }
  const ct = r.charge_type;
  if (ct !== undefined && !(CHARGE_TYPES as readonly string[]).includes(ct as string))
    add(`${at}.charge_type: one of ${CHARGE_TYPES.join(', ')}`);
  if (r.fee !== undefined)
    for (const p of feeScheduleProblems(r.fee, `${at}.fee`)) add(`${p.field}: ${p.errors.join('; ')}`);
  if (r.on_behalf_of !== undefined) {
    if (typeof r.on_behalf_of !== 'boolean') add(`${at}.on_behalf_of: true or false`);
    else if (r.on_behalf_of && ct !== 'destination')
      add(`${at}.on_behalf_of: applies to destination charges only`);
  }
  if (r.capture_method !== undefined && r.capture_method !== 'automatic' && r.capture_method !== 'manual')
    add(`${at}.capture_method: automatic or manual`);
  const sds = r.statement_descriptor_suffix;
  if (sds !== undefined && (typeof sds !== 'string' || sds.length === 0 || sds.length > 22))
    add(`${at}.statement_descriptor_suffix: 1 to 22 characters`);
  if (r.split !== undefined) {
    if (ct !== undefined && ct !== 'separate')
      add(`${at}.split: a split is a separate charge (charge_type separate)`);
    if (!Array.isArray(r.split) || r.split.length === 0) return add(`${at}.split: a non-empty list`);
    let bps = 0;
    let shares = 0;
    const seen = new Set<string>();
    r.split.forEach((p: unknown, i) => {
      const pat = `${at}.split[${i}]`;
      if (!isObj(p) || typeof p.tenant_id !== 'string') return add(`${pat}: needs a tenant_id`);
      if (seen.has(p.tenant_id)) add(`${pat}: tenant ${p.tenant_id} appears twice`);
      seen.add(p.tenant_id);
      if (!known.has(p.tenant_id)) add(`${pat}: tenant ${p.tenant_id} has no connected account`);
      if ((p.amount === undefined) === (p.share_bps === undefined))
        return add(`${pat}: exactly one of amount or share_bps`);
      if (p.amount !== undefined && (!isInt(p.amount) || p.amount < 1))
        add(`${pat}.amount: a positive integer (minor units)`);
      if (p.share_bps !== undefined) {
        shares += 1;
        if (!isInt(p.share_bps) || p.share_bps < 1 || p.share_bps > 10_000)
          add(`${pat}.share_bps: an integer from 1 to 10000`);
        else bps += p.share_bps;
      }
    });
    if (shares > 0 && bps !== 10_000) add(`${at}.split: share_bps add up to ${bps}, not 10000`);
  }
}

// --- Reachability: conditions in disjunctive normal form over per-field domains -------------------------

/** What a conjunction allows of one field: an integer interval, or a set allowed / a set excluded. */
interface Domain {
  lo: number;
  hi: number;
  allow: Set<unknown> | null;
  deny: Set<unknown>;
}
type Term = LeafCondition[];
const MAX_TERMS = 64;

const negate = (l: LeafCondition): Condition => {
  const flip: Record<string, LeafCondition['op']> = {
    eq: 'ne',
    ne: 'eq',
    in: 'nin',
    nin: 'in',
    lt: 'gte',
    gte: 'lt',
    gt: 'lte',
    lte: 'gt',
  };
  if (l.op === 'between') {
    const [lo, hi] = l.value as number[];
    return {
      any: [
        { field: l.field, op: 'lt', value: lo },
        { field: l.field, op: 'gt', value: hi },
      ],
    };
  }
  return { ...l, op: flip[l.op] };
};

/** The condition as a list of conjunctions (OR of ANDs), or null past MAX_TERMS (the check is then skipped). */
export function toDnf(c: Condition, negated = false): Term[] | null {
  if ('field' in c) return negated ? toDnf(negate(c)) : [[c]];
  if ('not' in c) return toDnf(c.not, !negated);
  const isAll = 'all' in c ? !negated : negated;
  const parts = ('all' in c ? c.all : c.any).map((x) => toDnf(x, negated));
  if (parts.some((p) => p === null)) return null;
  const terms = parts as Term[][];
  if (!isAll) {
    const flat = terms.flat();
    return flat.length > MAX_TERMS ? null : flat;
  }
  let acc: Term[] = [[]];
  for (const p of terms) {
    const next: Term[] = [];
    for (const a of acc) for (const b of p) next.push([...a, ...b]);
    if (next.length > MAX_TERMS) return null;
    acc = next;
  }
  return acc;
}

function domainsOf(term: Term): Map<string, Domain> | 'empty' {
  const m = new Map<string, Domain>();
  for (const l of term) {
    const d = m.get(l.field) ?? { lo: -Infinity, hi: Infinity, allow: null, deny: new Set() };
    m.set(l.field, d);
    const v = l.value as ConditionValue;
    switch (l.op) {
      case 'lt':
        d.hi = Math.min(d.hi, (v as number) - 1);
        break;
      case 'lte':
        d.hi = Math.min(d.hi, v as number);
        break;
      case 'gt':
        d.lo = Math.max(d.lo, (v as number) + 1);
        break;
      case 'gte':
        d.lo = Math.max(d.lo, v as number);
        break;
      case 'between':
        d.lo = Math.max(d.lo, (v as number[])[0]);
        d.hi = Math.min(d.hi, (v as number[])[1]);
        break;
      case 'eq':
      case 'in': {
        const vals = new Set<unknown>(l.op === 'eq' ? [v] : (v as unknown[]));
        d.allow = d.allow ? new Set([...d.allow].filter((x) => vals.has(x))) : vals;
        break;
      }
      case 'ne':
        d.deny.add(v);
        break;
      case 'nin':
        for (const x of v as unknown[]) d.deny.add(x);
        break;
    }
  }
  for (const [field, d] of m) {
    // What the field can be at all: amounts in AMOUNT_RANGE, currencies and countries from their known sets.
    if (field === 'amount') {
      d.lo = Math.max(d.lo, AMOUNT_RANGE.lo);
      d.hi = Math.min(d.hi, AMOUNT_RANGE.hi);
    }
    const known = valueKnown(field);
    if (known) {
      if (d.allow) d.allow = new Set([...d.allow].filter(known));
      d.deny = new Set([...d.deny].filter(known));
    }
    if (d.allow) {
      d.allow = new Set(
        [...d.allow].filter((x) => !d.deny.has(x) && (typeof x !== 'number' || (x >= d.lo && x <= d.hi))),
      );
      if (d.allow.size === 0) return 'empty';
    }
    if (d.lo > d.hi) return 'empty';
  }
  // A field left free (its whole domain) constrains nothing: a term of free fields only matches every payment.
  for (const [field, d] of m) {
    const whole =
      field === 'amount'
        ? d.lo === AMOUNT_RANGE.lo && d.hi === AMOUNT_RANGE.hi
        : d.lo === -Infinity && d.hi === Infinity;
    if (whole && !d.allow && d.deny.size === 0) m.delete(field);
  }
  return m;
}

/** Every payment `inner` allows, `outer` allows too (sound: false when unsure). */
function within(inner: Domain | undefined, outer: Domain): boolean {
  const free = outer.lo === -Infinity && outer.hi === Infinity && !outer.allow && outer.deny.size === 0;
  if (free) return true;
  if (!inner) return false;
  if (inner.lo < outer.lo || inner.hi > outer.hi) {
    // An allowed set inside the interval is inside too.
    if (
      !inner.allow ||
      ![...inner.allow].every((x) => typeof x === 'number' && x >= outer.lo && x <= outer.hi)
    )
      return false;
  }
  if (outer.allow) {
    if (!inner.allow || ![...inner.allow].every((x) => outer.allow!.has(x))) return false;
  }
  for (const x of outer.deny) {
    const excluded = inner.deny.has(x) || (inner.allow !== null && !inner.allow.has(x));
    if (!excluded) return false;
  }
  return true;
}

const subsumes = (outer: Map<string, Domain>, inner: Map<string, Domain>): boolean =>
  [...outer.entries()].every(([f, d]) => within(inner.get(f), d));

/**
 * Amount tiers that share an edge or a stretch (`between [1, 1000]` then `between [1000, 5000]`): the shared amounts
 * take the earlier rule's route, which a tier table rarely means. Only rules that are one amount range each.
 */
function overlapProblems(
  live: Map<string, Domain>[],
  name: string,
  ranges: { name: string; lo: number; hi: number }[],
  add: (m: string) => void,
): void {
  const only = live.length === 1 && live[0].size === 1 ? live[0].get('amount') : undefined;
  if (!only || only.allow || only.deny.size) return;
  for (const r of ranges) {
    const lo = Math.max(r.lo, only.lo);
    const hi = Math.min(r.hi, only.hi);
    const nested = (only.lo >= r.lo && only.hi <= r.hi) || (r.lo >= only.lo && r.hi <= only.hi);
    if (lo <= hi && !nested)
      add(`overlaps "${r.name}" on amount ${lo}..${hi}: those payments take "${r.name}"'s route`);
  }
  ranges.push({ name, lo: only.lo, hi: only.hi });
}

// ----------------------------------------------------------------------------------------------------------

/**
 * The static checks of a rule set: a default route exists; rule names are unique; every condition is well formed
 * and names a known field with a value of its type; no rule can never match or is unreachable behind earlier
 * ones; routes are well formed (fee schedules, on_behalf_of with destination charges only, splits with one of
 * amount / share_bps per tenant and shares adding up to 10 000, volume weights positive); referenced tenants
 * exist (`knownTenants`).
 */
export function validateRuleSet(rules: unknown, def: unknown, knownTenants: Set<string>): RuleSetProblem[] {
  const problems: RuleSetProblem[] = [];
  const at = (rule: string | null) => (message: string) => problems.push({ rule, message });
  if (def === undefined || def === null) at(null)('default: every rule set needs a default route');
  else routeProblems(def, 'default', at(null), knownTenants);
  if (!Array.isArray(rules)) {
    at(null)('rules: must be a list');
    return problems;
  }
  const names = new Set<string>();
  const earlier: Map<string, Domain>[] = [];
  const ranges: { name: string; lo: number; hi: number }[] = [];
  let coversAll: string | null = null;
  rules.forEach((raw: unknown, i) => {
    const name = isObj(raw) && typeof raw.name === 'string' && raw.name ? raw.name : `#${i + 1}`;
    const add = at(name);
    if (!isObj(raw)) return add('a rule must be an object');
    const r = raw as unknown as Rule;
    if (typeof raw.name !== 'string' || !raw.name || raw.name.length > 200) add('name: 1 to 200 characters');
    if (names.has(name)) add(`name: "${name}" is used by an earlier rule`);
    names.add(name);
    const before = problems.length;
    conditionProblems(r.when, 'when', add);
    const wellFormed = problems.length === before;
    if (r.split_volume === undefined || r.route !== undefined)
      routeProblems(r.route, 'route', add, knownTenants);
    if (r.alternatives !== undefined) {
      if (!Array.isArray(r.alternatives)) add('alternatives: a list of routes');
      else r.alternatives.forEach((x, k) => routeProblems(x, `alternatives[${k}]`, add, knownTenants));
    }
    if (r.split_volume !== undefined) {
      if (!Array.isArray(r.split_volume) || r.split_volume.length < 2)
        add('split_volume: a list of at least two {weight, route}');
      else
        r.split_volume.forEach((b: unknown, k) => {
          if (!isObj(b) || !isInt(b.weight) || b.weight < 1)
            add(`split_volume[${k}].weight: a positive integer`);
          routeProblems(isObj(b) ? b.route : undefined, `split_volume[${k}].route`, add, knownTenants);
        });
    }
    if (!wellFormed) return;
    const beforeDomain = problems.length;
    domainProblems(r.when, 'when', add);
    const explained = problems.length > beforeDomain;
    if (coversAll) return add(`unreachable: the earlier rule "${coversAll}" matches every payment`);
    const dnf = toDnf(r.when);
    if (!dnf) return;
    const terms = dnf.map(domainsOf);
    const live = terms.filter((t): t is Map<string, Domain> => t !== 'empty');
    // An always-false part already said why; otherwise the parts contradict each other.
    if (live.length === 0)
      return explained ? undefined : add('never matches: its conditions contradict each other');
    const shadowedBy = live.every((t) => earlier.some((e) => subsumes(e, t)));
    if (shadowedBy) add('unreachable: every payment it matches is matched by an earlier rule');
    overlapProblems(live, name, ranges, add);
    earlier.push(...live);
    if (live.some((t) => t.size === 0)) coversAll = name;
  });
  return problems;
}

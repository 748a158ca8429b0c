import { invalidRequest, missingParam } from './errors';

/** What `qs` produces from Stripe's bracketed form encoding. */
export type Params = Record<string, unknown>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optString(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidRequest(`Invalid string: ${name}`, { param: name });
  return v;
}

export function reqString(params: Params, name: string): string {
  const v = optString(params, name);
  if (v === undefined || v === '') throw missingParam(name);
  return v;
}

export function optInt(params: Params, name: string, label = name): number | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) {
    throw invalidRequest(`Invalid integer: ${String(v)}`, {
      param: label,
      code: 'parameter_invalid_integer',
    });
  }
  return Number(v);
}

export function optBool(params: Params, name: string): boolean | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${String(v)}`, { param: name });
}

export function optObject(params: Params, name: string): Params | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (!isRecord(v)) throw invalidRequest(`Invalid object`, { param: name });
  return v;
}

/** Arrays arrive as `a[]=x&a[]=y` or `a[0]=x`; qs gives an array or an index-keyed object. */
export function optArray(params: Params, name: string): unknown[] | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (Array.isArray(v)) return v;
  if (isRecord(v))
    return Object.keys(v)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => v[k]);
  return [v];
}

/**
 * Stripe merges metadata on update; a key set to '' is removed, and `metadata=''` clears it.
 * https://docs.stripe.com/api/metadata
 */
export function mergeMetadata(current: unknown, update: unknown): Record<string, string> {
  const base: Record<string, string> = isRecord(current) ? { ...(current as Record<string, string>) } : {};
  if (update === '') return {};
  if (!isRecord(update)) return base;
  for (const [k, v] of Object.entries(update)) {
    if (v === '') delete base[k];
    else base[k] = String(v);
  }
  if (Object.keys(base).length > 50)
    throw invalidRequest('Metadata can have at most 50 keys.', { param: 'metadata' });
  return base;
}

/** `created` filters: an integer or {gt, gte, lt, lte}. */
export function createdFilter(params: Params, name = 'created'): (created: number) => boolean {
  const v = params[name];
  if (v === undefined || v === '') return () => true;
  if (typeof v === 'string') {
    const exact = optInt(params, name);
    return (c) => c === exact;
  }
  if (!isRecord(v)) throw invalidRequest('Invalid created filter', { param: name });
  const bound = (k: string): number | undefined => optInt(v, k, `${name}[${k}]`);
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  return (c) =>
    (gt === undefined || c > gt) &&
    (gte === undefined || c >= gte) &&
    (lt === undefined || c < lt) &&
    (lte === undefined || c <= lte);
}

/** `amount` of a partial operation (reversal, fee refund): optional (= what remains), at least 1, never over. */
export function amountWithin(params: Params, remaining: number, over: (amount: number) => string): number {
  const amount = optInt(params, 'amount') ?? remaining;
  if (amount < 1) {
    throw invalidRequest('This value must be greater than or equal to 1.', {
      param: 'amount',
      code: 'parameter_invalid_integer',
    });
  }
  if (amount > remaining) throw invalidRequest(over(amount), { param: 'amount' });
  return amount;
}

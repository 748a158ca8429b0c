import { Store, StripeObject } from './store';

/** Stripe expands at most four levels deep (https://docs.stripe.com/expand). */
const MAX_DEPTH = 4;

/** `expand` as the SDK sends it (`expand[0]=a`) or as a single string. */
export function expandPaths(params: Record<string, unknown>): string[] {
  const raw = params.expand;
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw ? Object.values(raw) : [raw];
  return list.filter((p): p is string => typeof p === 'string' && p.length > 0);
}

/**
 * Replaces the ids named by `paths` (`data.source`, `source_transfer.source_transaction`) with the objects, as
 * the caller may see them: an id owned by another account stays an id. Works on a copy; the store is untouched.
 * https://docs.stripe.com/api/expanding_objects
 */
export function expandBody(store: Store, owner: string, body: unknown, paths: string[]): unknown {
  if (!paths.length || typeof body !== 'object' || body === null) return body;
  const copy = structuredClone(body);
  for (const path of paths) expandAt(store, owner, copy, path.split('.').slice(0, MAX_DEPTH + 1));
  return copy;
}

function expandAt(store: Store, owner: string, node: unknown, segs: string[]): void {
  if (!segs.length || typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const item of node) expandAt(store, owner, item, segs);
    return;
  }
  const obj = node as Record<string, unknown>;
  const [key, ...rest] = segs;
  if (typeof obj[key] === 'string') {
    const found = store.findAnywhere(obj[key]);
    if (found && found.entry.owner === owner) obj[key] = structuredClone(found.entry.obj) as StripeObject;
  }
  expandAt(store, owner, obj[key], rest);
}

import { StripeApiError } from '../errors';
import { isRecord, Params } from '../params';

/**
 * What the /v2 endpoints share: JSON bodies, RFC 3339 timestamps, `include`, page-token lists and v2's error
 * shape. https://docs.stripe.com/api-v2-overview
 */

/** v2's error body: `{error: {type, code, message}}`; field problems carry `code: "invalid_fields"`. */
export function v2Error(
  status: number,
  message: string,
  opts: { type?: string; code?: string; param?: string } = {},
): StripeApiError {
  const error: Record<string, unknown> = { type: opts.type ?? 'invalid_request_error', message };
  if (opts.code) error.code = opts.code;
  if (opts.param) error.param = opts.param;
  return new StripeApiError(status, { error });
}

export function invalidField(param: string, message: string): StripeApiError {
  return v2Error(400, message, { code: 'invalid_fields', param });
}

export function v2NotFound(kind: string, id: string): StripeApiError {
  return v2Error(404, `No such ${kind}: '${id}'`, { code: 'resource_missing' });
}

/** RFC 3339 with milliseconds, the format of every v2 timestamp. */
export function iso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

export function field(params: Params, path: string): unknown {
  let at: unknown = params;
  for (const key of path.split('.')) at = isRecord(at) ? at[key] : undefined;
  return at;
}

export function optStr(params: Params, path: string): string | undefined {
  const v = field(params, path);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidField(path, `${path} must be a string.`);
  return v;
}

export function reqStr(params: Params, path: string): string {
  const v = optStr(params, path);
  if (v === undefined || v === '') throw invalidField(path, `${path} is required.`);
  return v;
}

export function optEnum<T extends string>(
  params: Params,
  path: string,
  allowed: readonly T[],
): T | undefined {
  const v = optStr(params, path);
  if (v !== undefined && !allowed.includes(v as T)) {
    throw invalidField(path, `${path} must be one of ${allowed.join(', ')}.`);
  }
  return v as T | undefined;
}

/** JSON arrays in bodies; `a[0]=x&a[1]=y` (how the SDK encodes arrays in a query) arrives as an array too. */
export function optList(params: Params, path: string): string[] | undefined {
  const v = field(params, path);
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : isRecord(v) ? Object.values(v) : [v];
  if (list.some((x) => typeof x !== 'string')) throw invalidField(path, `${path} must be a list of strings.`);
  return list as string[];
}

export function optBoolean(params: Params, path: string): boolean | undefined {
  const v = field(params, path);
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalidField(path, `${path} must be a boolean.`);
}

/** The `include` values a request asks for, each checked against the endpoint's list. */
export function includes(params: Params, allowed: readonly string[]): Set<string> {
  const list = optList(params, 'include') ?? [];
  for (const v of list) {
    if (!allowed.includes(v)) throw invalidField('include', `include must be one of ${allowed.join(', ')}.`);
  }
  return new Set(list);
}

/** v2 metadata: merged key by key, a key set to null is removed. */
export function mergeV2Metadata(current: unknown, update: unknown): Record<string, string> {
  const out: Record<string, string> = isRecord(current) ? { ...(current as Record<string, string>) } : {};
  if (update === undefined) return out;
  if (!isRecord(update)) throw invalidField('metadata', 'metadata must be an object.');
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k];
    else if (typeof v === 'string') out[k] = v;
    else throw invalidField(`metadata.${k}`, 'metadata values must be strings.');
  }
  return out;
}

/**
 * v2 lists: `{data, next_page_url, previous_page_url}` over a newest-first array; `limit` (1..100, default 10)
 * and an opaque `page` token. The page URLs keep the request's filters.
 */
export function v2List<T extends { id: string }>(
  params: Params,
  items: T[],
  path: string,
): { data: T[]; next_page_url: string | null; previous_page_url: string | null } {
  const rawLimit = params.limit;
  const limit = rawLimit === undefined ? 10 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidField('limit', 'limit must be an integer between 1 and 100.');
  }
  const page = typeof params.page === 'string' ? params.page : undefined;
  let start = 0;
  if (page) {
    const [dir, id] = Buffer.from(page, 'base64url').toString('utf8').split(':', 2);
    const i = items.findIndex((item) => item.id === id);
    if (i < 0 || (dir !== 'after' && dir !== 'before')) throw invalidField('page', 'page is not valid.');
    start = dir === 'after' ? i + 1 : Math.max(0, i - limit);
  }
  const data = items.slice(start, start + limit);
  const url = (dir: string, id: string): string => {
    const query = new URLSearchParams(
      Object.entries(params).flatMap(([k, v]): Array<[string, string]> =>
        k === 'page'
          ? []
          : Array.isArray(v)
            ? v.map((x, i): [string, string] => [`${k}[${i}]`, String(x)])
            : [[k, String(v)]],
      ),
    );
    query.set('page', Buffer.from(`${dir}:${id}`).toString('base64url'));
    return `${path}?${query.toString()}`;
  };
  const last = data[data.length - 1];
  return {
    data,
    next_page_url: last && start + limit < items.length ? url('after', last.id) : null,
    previous_page_url: start > 0 && data[0] ? url('before', data[0].id) : null,
  };
}

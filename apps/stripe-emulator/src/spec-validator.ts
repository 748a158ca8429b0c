import { invalidRequest, StripeApiError } from './errors';
import { isRecord, Params } from './params';
import type { ParamTable } from './generate-param-table';
import committedTable from './stripe-params.json';

/**
 * Rejects unknown parameters the way Stripe does (400 `parameter_unknown`), using the table of accepted
 * parameters committed in stripe-params.json (derived from Stripe's OpenAPI description by
 * `npm run emulator:params`; see docs/stripe-params.md).
 */

/**
 * THE deliberate exceptions: parameters newer than the description the table comes from that the SDK or the
 * service sends. A listed param accepts its whole subtree. Add here, nowhere else, and say why.
 */
export const SPEC_EXCEPTIONS: ReadonlyArray<{ operation: string; param: string; why: string }> = [
  {
    operation: 'POST /v1/accounts',
    param: 'controller',
    why: 'controller[...] replaced `type` in 2023-10 (https://docs.stripe.com/connect/migrate-to-controller-properties)',
  },
  {
    operation: 'POST /v1/account_links',
    param: 'collection_options',
    why: 'collection_options replaced `collect` in 2024 (https://docs.stripe.com/api/account_links/create)',
  },
  {
    operation: 'POST /v1/account_sessions',
    param: 'components',
    why: 'components beyond account_onboarding and their features came later (https://docs.stripe.com/api/account_sessions/create); the resource checks names and features itself',
  },
];

/** One level of accepted keys: named children, array items (`[]`), or anything below (`[*]`). */
interface ParamNode {
  children: Map<string, ParamNode>;
  items?: ParamNode;
  any: boolean;
}

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  literalSegments: number;
  root: ParamNode;
}

const node = (): ParamNode => ({ children: new Map(), any: false });

/** `a[b][][*]` → ['a', 'b', '', '*']. */
function segmentsOf(key: string): string[] {
  const first = key.split('[', 1)[0];
  return [first, ...[...key.slice(first.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1])];
}

function insert(root: ParamNode, key: string): ParamNode {
  let at = root;
  for (const seg of segmentsOf(key)) {
    if (seg === '*') {
      at.any = true;
      return at;
    }
    if (seg === '') at = at.items ??= node();
    else {
      let next = at.children.get(seg);
      if (!next) at.children.set(seg, (next = node()));
      at = next;
    }
  }
  return at;
}

export class SpecValidator {
  private readonly operations: Operation[] = [];
  readonly specVersion: string;

  constructor(table: Pick<ParamTable, 'operations'> & Partial<ParamTable>) {
    this.specVersion = table.spec_version ?? 'unknown';
    for (const [operation, keys] of Object.entries(table.operations)) {
      const [method, template] = operation.split(' ');
      const segments = template.split('/');
      const regex = new RegExp(
        '^' +
          segments
            .map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('/') +
          '$',
      );
      const root = node();
      for (const key of keys) insert(root, key);
      for (const e of SPEC_EXCEPTIONS) if (e.operation === operation) insert(root, e.param).any = true;
      const literalSegments = segments.filter((s) => !s.startsWith('{')).length;
      this.operations.push({ method, template, regex, literalSegments, root });
    }
    // `/v1/payment_intents/search` must win over `/v1/payment_intents/{intent}`.
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** The matched operation template, or null when the table does not describe this path (nothing checked). */
  match(method: string, path: string): Operation | null {
    return this.operations.find((o) => o.method === method && o.regex.test(path)) ?? null;
  }

  /** Throws Stripe's 400 `parameter_unknown` for the first unknown key, top-level or nested. */
  validate(method: string, path: string, params: Params): void {
    const op = this.match(method, path);
    if (!op) return;
    const unknown = findUnknown(params, op.root, '');
    if (unknown) throw unknownParam(unknown);
  }
}

/** A scalar is accepted wherever a key is known (Stripe unsets an object with ''); types are not checked. */
function findUnknown(value: unknown, at: ParamNode, path: string): string | null {
  if (at.any) return null;
  const entries: Array<[string, unknown, ParamNode | undefined]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v, at.items])
    : isRecord(value)
      ? Object.entries(value).map(([k, v]) => [
          k,
          v,
          at.children.get(k) ?? (/^\d+$/.test(k) ? at.items : undefined),
        ])
      : [];
  for (const [key, child, next] of entries) {
    const childPath = path ? `${path}[${key}]` : key;
    if (!next) return childPath;
    const unknown = findUnknown(child, next, childPath);
    if (unknown) return unknown;
  }
  return null;
}

function unknownParam(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
}

let committed: SpecValidator | undefined;

/** The validator for the committed table, built once per process. */
export function committedSpecValidator(): SpecValidator {
  return (committed ??= new SpecValidator(committedTable as ParamTable));
}

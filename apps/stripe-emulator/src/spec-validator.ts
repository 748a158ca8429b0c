import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { invalidRequest, StripeApiError } from './errors';
import { isRecord, Params } from './params';

/**
 * Rejects unknown parameters the way Stripe does (400 `parameter_unknown`), using Stripe's own OpenAPI
 * description (API version 2023-08-16) from ../shared/stripe-openapi/. When the file is absent the check is
 * skipped (logged once) and every parameter is accepted.
 */

/**
 * THE deliberate exceptions: parameters newer than the 2023-08-16 description that the SDK or the service
 * sends. A listed param accepts its whole subtree. Add here, nowhere else, and say why.
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
];

type Schema = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  literalSegments: number;
  schema: Schema;
}

export class SpecValidator {
  private readonly operations: Operation[] = [];
  private readonly components: Record<string, Schema>;

  constructor(spec: Record<string, unknown>) {
    const paths = (spec.paths ?? {}) as Record<string, Record<string, Schema>>;
    this.components = (((spec.components ?? {}) as Schema).schemas ?? {}) as Record<string, Schema>;
    for (const [template, ops] of Object.entries(paths)) {
      const segments = template.split('/');
      const regex = new RegExp(
        '^' +
          segments
            .map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('/') +
          '$',
      );
      const literalSegments = segments.filter((s) => !s.startsWith('{')).length;
      for (const [method, op] of Object.entries(ops)) {
        const upper = method.toUpperCase();
        if (!['GET', 'POST', 'DELETE'].includes(upper)) continue;
        this.operations.push({
          method: upper,
          template,
          regex,
          literalSegments,
          schema: this.formSchema(op, upper),
        });
      }
    }
    // `/v1/payment_intents/search` must win over `/v1/payment_intents/{intent}`.
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  static fromFile(path: string): SpecValidator {
    return new SpecValidator(
      JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Record<string, unknown>,
    );
  }

  /** POSTs declare a form schema; GET/DELETE declare query parameters, turned here into one object schema. */
  private formSchema(op: Schema, method: string): Schema {
    const body = ((op.requestBody as Schema | undefined)?.content as Schema | undefined)?.[
      'application/x-www-form-urlencoded'
    ] as Schema | undefined;
    const properties: Record<string, Schema> = {};
    if (method === 'POST' && body?.schema) return body.schema as Schema;
    for (const p of (op.parameters ?? []) as Schema[]) {
      if (p.in === 'query') properties[p.name as string] = (p.schema ?? {}) as Schema;
    }
    if (body?.schema) Object.assign(properties, ((body.schema as Schema).properties ?? {}) as Schema);
    return { type: 'object', properties, additionalProperties: false };
  }

  /** The matched operation template, or null when the spec does not describe this path (nothing checked). */
  match(method: string, path: string): Operation | null {
    return this.operations.find((o) => o.method === method && o.regex.test(path)) ?? null;
  }

  /** Throws Stripe's 400 `parameter_unknown` for the first unknown key, top-level or nested. */
  validate(method: string, path: string, params: Params): void {
    const op = this.match(method, path);
    if (!op) return;
    const unknown = this.findUnknown(params, op.schema, '');
    if (!unknown) return;
    const operation = `${method} ${op.template}`;
    const excepted = SPEC_EXCEPTIONS.some(
      (e) => e.operation === operation && (unknown === e.param || unknown.startsWith(`${e.param}[`)),
    );
    if (excepted) {
      // The exception covers this key; keep checking the remaining keys without it.
      const rest = { ...params };
      delete rest[unknown.split('[')[0]];
      const next = this.findUnknown(rest, op.schema, '');
      if (next) throw unknownParam(next);
      return;
    }
    throw unknownParam(unknown);
  }

  private resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      return this.components[ref.slice('#/components/schemas/'.length)] ?? {};
    }
    return schema;
  }

  private findUnknown(value: unknown, rawSchema: Schema | undefined, path: string): string | null {
    if (!rawSchema) return null;
    const schema = this.resolve(rawSchema);
    const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (variants) {
      let first: string | null = null;
      for (const variant of variants) {
        const unknown = this.findUnknown(value, variant, path);
        if (!unknown) return null;
        if (!first && (isRecord(value) ? isObjectSchema(this.resolve(variant)) : true)) first = unknown;
      }
      return first;
    }
    if (isRecord(value) && isObjectSchema(schema)) {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const extra = schema.additionalProperties;
      const open = extra !== undefined && extra !== false;
      const closed = !open && (extra === false || schema.properties !== undefined);
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}[${key}]` : key;
        if (key in props) {
          const unknown = this.findUnknown(child, props[key], childPath);
          if (unknown) return unknown;
        } else if (closed) {
          return childPath;
        }
      }
      return null;
    }
    if (schema.type === 'array') {
      const items = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : [];
      const keys = Array.isArray(value)
        ? value.map((_, i) => String(i))
        : isRecord(value)
          ? Object.keys(value)
          : [];
      for (let i = 0; i < items.length; i++) {
        const unknown = this.findUnknown(items[i], schema.items as Schema | undefined, `${path}[${keys[i]}]`);
        if (unknown) return unknown;
      }
      return null;
    }
    return null;
  }
}

function isObjectSchema(schema: Schema): boolean {
  return schema.type === 'object' || schema.properties !== undefined;
}

function unknownParam(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
}

/** ../shared/stripe-openapi/spec3.json.gz from the working directory, then from the repo root above __dirname. */
export function defaultSpecPath(): string | null {
  const candidates = [resolve(process.cwd(), '../shared/stripe-openapi/spec3.json.gz')];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      candidates.push(resolve(dir, '../shared/stripe-openapi/spec3.json.gz'));
      break;
    }
    dir = dirname(dir);
  }
  return candidates.find((c) => existsSync(c)) ?? null;
}

const cache = new Map<string, SpecValidator>();

/** Loads once per path (the file is ~450 KB gzipped; parsing it per emulator start would slow tests). */
export function loadSpecValidator(
  specPath: string | null | undefined,
  log: (msg: string) => void,
): SpecValidator | null {
  const path = specPath === undefined ? defaultSpecPath() : specPath;
  if (!path || !existsSync(path)) {
    if (specPath !== null) {
      log(
        `Stripe OpenAPI description not found${path ? ` at ${path}` : ''}: unknown parameters are NOT rejected`,
      );
    }
    return null;
  }
  let validator = cache.get(path);
  if (!validator) {
    validator = SpecValidator.fromFile(path);
    cache.set(path, validator);
  }
  return validator;
}

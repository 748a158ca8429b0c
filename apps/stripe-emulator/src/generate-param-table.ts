/**
 * Derives the committed parameter table (stripe-params.json) from Stripe's OpenAPI description. Used by
 * `npm run emulator:params` (scripts/generate-stripe-params.js) and by the test that fails when the table is
 * stale; the emulator itself only reads the committed table.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface RouteRef {
  method: string;
  url: string;
}

/** Emulator routes Stripe's description does not cover, so nothing is checked on them. Add here and say why. */
export const UNDESCRIBED_ROUTES: ReadonlyArray<{ route: string; why: string }> = [
  {
    route: 'GET /oauth/authorize',
    why: 'OAuth lives on connect.stripe.com, outside the REST description (https://docs.stripe.com/connect/oauth-reference)',
  },
  {
    route: 'POST /oauth/token',
    why: 'OAuth lives on connect.stripe.com, outside the REST description (https://docs.stripe.com/connect/oauth-reference)',
  },
  {
    route: 'POST /oauth/deauthorize',
    why: 'OAuth lives on connect.stripe.com, outside the REST description (https://docs.stripe.com/connect/oauth-reference)',
  },
];

/** The emulator's own test-control API, not Stripe's. */
export const CONTROL_PREFIX = '/_emulator/';

export interface ParamTable {
  notice: string;
  source: string;
  spec_version: string;
  regenerate: string;
  /** "METHOD /v1/template/{param}" → accepted keys: `a`, `a[b]`, `a[]` (array items), `a[*]` (free-form). */
  operations: Record<string, string[]>;
}

export const REGENERATE_COMMAND = 'npm run emulator:params';

/** The MIT notice of https://github.com/stripe/openapi, which the table is derived from. */
export const STRIPE_OPENAPI_NOTICE = [
  'Derived from openapi/spec3.json of https://github.com/stripe/openapi.',
  'The MIT License',
  'Copyright (c) 2011- Stripe, Inc. (https://stripe.com)',
  'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:',
  'The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.',
  'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
].join('\n');

type Schema = Record<string, unknown>;

/**
 * Where a development machine keeps Stripe's description: STRIPE_OPENAPI_SPEC, else
 * ../shared/stripe-openapi/spec3.json.gz beside the repository (or beside the folder holding git worktrees).
 * Only the generator and the staleness test look; null when there is none.
 */
export function findSpec(repoRoot: string): string | null {
  const candidates = process.env.STRIPE_OPENAPI_SPEC
    ? [resolve(process.env.STRIPE_OPENAPI_SPEC)]
    : ['..', '../..'].map((up) => resolve(repoRoot, up, 'shared/stripe-openapi/spec3.json.gz'));
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** spec3.json, gzipped or not. */
export function readSpec(path: string): Record<string, unknown> {
  const raw = readFileSync(path);
  return JSON.parse((raw[0] === 0x1f ? gunzipSync(raw) : raw).toString('utf8')) as Record<string, unknown>;
}

/** `/v1/accounts/:id` and `/v1/accounts/{account}` both become `/v1/accounts/{}`. */
export function routeShape(template: string): string {
  return template
    .split('/')
    .map((s) => (s.startsWith(':') || s.startsWith('{') ? '{}' : s))
    .join('/');
}

/** API v2 (JSON) is outside the v1 description; its resources check their own fields. */
export const V2_PREFIX = '/v2/';

/** The routes Stripe's description should cover: everything but the control API, API v2 and Fastify's HEAD twins. */
export function stripeRoutes(routes: RouteRef[]): string[] {
  const keys = routes
    .filter(
      (r) =>
        ['GET', 'POST', 'DELETE'].includes(r.method) &&
        !r.url.startsWith(CONTROL_PREFIX) &&
        !r.url.startsWith(V2_PREFIX),
    )
    .map((r) => `${r.method} ${r.url}`);
  return [...new Set(keys)].sort();
}

export function buildParamTable(spec: Record<string, unknown>, routes: RouteRef[]): ParamTable {
  const paths = (spec.paths ?? {}) as Record<string, Record<string, Schema>>;
  const components = (((spec.components ?? {}) as Schema).schemas ?? {}) as Record<string, Schema>;
  const byShape = new Map(Object.keys(paths).map((t) => [routeShape(t), t]));
  const undescribed = new Set(UNDESCRIBED_ROUTES.map((r) => r.route));
  const operations: Record<string, string[]> = {};
  const missing: string[] = [];
  for (const key of stripeRoutes(routes)) {
    if (undescribed.has(key)) continue;
    const [method, url] = key.split(' ');
    const template = byShape.get(routeShape(url));
    const op = template ? paths[template][method.toLowerCase()] : undefined;
    if (!template || !op) {
      missing.push(key);
      continue;
    }
    const out = new Set<string>();
    const walk = (raw: Schema | undefined, path: string, seen: Set<Schema>): void => {
      if (!raw) return;
      const ref = raw.$ref;
      const schema =
        typeof ref === 'string' ? (components[ref.replace('#/components/schemas/', '')] ?? {}) : raw;
      // Recursive schemas (rare in request bodies) stop at the second visit, accepting the subtree.
      if (seen.has(schema)) return void out.add(`${path}[*]`);
      const inner = new Set(seen).add(schema);
      const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
      if (variants) return variants.forEach((v) => walk(v, path, inner));
      if (schema.type === 'object' || schema.properties !== undefined) {
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        const extra = schema.additionalProperties;
        const open = (extra !== undefined && extra !== false) || (extra === undefined && !schema.properties);
        if (open) out.add(path ? `${path}[*]` : '*');
        for (const [k, child] of Object.entries(props)) walk(child, path ? `${path}[${k}]` : k, inner);
        return;
      }
      if (schema.type === 'array') {
        return walk(schema.items as Schema | undefined, `${path}[]`, inner);
      }
      out.add(path);
    };
    const body = ((op.requestBody as Schema | undefined)?.content as Schema | undefined)?.[
      'application/x-www-form-urlencoded'
    ] as Schema | undefined;
    if (method === 'POST' && body?.schema) walk(body.schema as Schema, '', new Set());
    else {
      for (const p of (op.parameters ?? []) as Schema[]) {
        if (p.in === 'query') walk((p.schema ?? {}) as Schema, p.name as string, new Set());
      }
    }
    operations[`${method} ${template}`] = [...out].filter((k) => k !== '').sort();
  }
  if (missing.length) {
    throw new Error(
      `Stripe's description has no operation for ${missing.join(', ')}: fix the route or list it in UNDESCRIBED_ROUTES (apps/stripe-emulator/src/generate-param-table.ts) with the reason`,
    );
  }
  const info = (spec.info ?? {}) as Schema;
  return {
    notice: STRIPE_OPENAPI_NOTICE,
    source: 'https://github.com/stripe/openapi/blob/master/openapi/spec3.json',
    spec_version: String(info.version ?? 'unknown'),
    regenerate: REGENERATE_COMMAND,
    operations: Object.fromEntries(Object.entries(operations).sort(([a], [b]) => a.localeCompare(b))),
  };
}

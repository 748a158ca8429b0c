import fc from 'fast-check';
import { ERROR_CODES } from '@app/common';
import { genericErrors } from '../../apps/connect-service/src/http/openapi';
import { api } from '../support/http';
import { createPrivateDatabase } from '../utils/private-database';
import { bootTestApp, TestApp } from '../support/app';
import { Op, OpenApiDocument, operationsOf, SchemaArbitraries } from './openapi-fuzz';
import { discoverRoutes } from './route-table';

jest.setTimeout(120_000);

/** Fixed, so a failure is reproducible: `FUZZ_SEED=<seed> npx jest test/security/openapi-properties`. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_207);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 30);

interface FuzzRequest {
  caller: 'platform' | 'tenant-admin' | 'none' | 'garbage';
  url: string;
  body?: unknown;
  rawBody?: string;
}

/**
 * Properties of every operation the OpenAPI document lists, from its own request schemas (fast-check): whatever the
 * path, query, body and credentials (valid-shaped, mutated, hostile), the answer is never a 5xx, its status is one
 * the operation documents, and every error body is a ServiceError. Endpoints added later are covered the day they
 * are documented. On a database of its own: the requests change platform-wide state (rule sets, keys).
 */
describe('OpenAPI properties: every operation, hostile input', () => {
  let t: TestApp;
  let db: Awaited<ReturnType<typeof createPrivateDatabase>>;
  let doc: OpenApiDocument;
  let arbs: SchemaArbitraries;
  const stats: Record<string, number> = {};

  beforeAll(async () => {
    db = await createPrivateDatabase();
    t = await bootTestApp({ DATABASE_URL: db.url, WORKERS_ENABLED: 'false' });
    doc = (await api(t)('GET', '/docs-json')).body as OpenApiDocument;
    arbs = new SchemaArbitraries(doc);
  });
  afterAll(async () => {
    process.stderr.write(`\nOpenAPI properties (seed ${SEED}): ${JSON.stringify(stats)}\n`);
    await t?.close();
    await db?.drop();
  });

  const headersFor = (caller: FuzzRequest['caller']): Record<string, string> => {
    if (caller === 'none') return {};
    if (caller === 'garbage') return { authorization: 'Bearer not.a.jwt', 'x-api-key': 'ck_\u00ff' };
    const token =
      caller === 'platform'
        ? t.token({ sub: 'fuzz-platform', roles: ['platform'] })
        : t.token({ sub: 'fuzz-admin', roles: ['admin'], tenant_id: 'tenant_acme' });
    return { authorization: `Bearer ${token}` };
  };

  function requestOf({ method, path, op }: Op): fc.Arbitrary<FuzzRequest> {
    const params = op.parameters ?? [];
    const segments = Object.fromEntries(
      params.filter((p) => p.in === 'path').map((p) => [p.name, arbs.segment(p)]),
    );
    const query = Object.fromEntries(
      params.filter((p) => p.in === 'query').map((p) => [p.name, arbs.query(p)]),
    );
    const schema = op.requestBody?.content?.['application/json']?.schema;
    const takesBody = method !== 'GET' && method !== 'HEAD';
    const body = takesBody
      ? fc.oneof(
          { weight: 6, arbitrary: arbs.value(schema).map((b) => ({ body: b })) },
          // Not JSON at all, on any route that reads a body.
          {
            weight: 1,
            arbitrary: fc.constantFrom('{', '{"a":', '[1,', '\u0000').map((raw) => ({ rawBody: raw })),
          },
        )
      : fc.constant({});
    return fc
      .record({
        caller: fc.constantFrom<FuzzRequest['caller']>(
          'platform',
          'platform',
          'platform',
          'tenant-admin',
          'none',
          'garbage',
        ),
        segments: fc.record(segments),
        query: fc.record(query),
        body,
      })
      .map(({ caller, segments: seg, query: q, body: b }) => {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => seg[name] ?? 'x');
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(q)) if (v !== undefined) qs.append(k, v);
        const search = qs.toString();
        return { caller, url: search ? `${url}?${search}` : url, ...b };
      });
  }

  it('the document covers every route the app serves', () => {
    const documented = operationsOf(doc).map((o) => `${o.method} ${o.path}`);
    const served = discoverRoutes(t.app).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    expect(served.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('every operation documents the generic error answers (input, limits, auth, rate limit, outage)', () => {
    const missing: string[] = [];
    for (const { method, path, op } of operationsOf(doc)) {
      for (const [status, codes] of genericErrors(path, method.toLowerCase(), op)) {
        const res = op.responses[String(status)] as
          | {
              content?: {
                'application/json'?: { examples?: Record<string, unknown>; example?: { code?: string } };
              };
            }
          | undefined;
        const json = res?.content?.['application/json'];
        if (!res) missing.push(`${method} ${path} ${status}`);
        // A status documented with a body of its own (the probes' Terminus report) keeps it.
        if (!json?.examples && !json?.example) continue;
        for (const code of codes) {
          if (!json.examples?.[code] && json.example?.code !== code)
            missing.push(`${method} ${path} ${status} ${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('no 5xx, no undocumented status, no error body that is not a ServiceError', async () => {
    const failures: string[] = [];
    for (const operation of operationsOf(doc)) {
      const name = `${operation.method} ${operation.path}`;
      const documented = new Set(Object.keys(operation.op.responses));
      const property = fc.asyncProperty(requestOf(operation), async (req) => {
        const headers = headersFor(req.caller);
        const res =
          req.rawBody !== undefined
            ? await api(t)(operation.method, req.url, { headers, body: req.rawBody })
            : await api(t)(operation.method, req.url, { headers, body: req.body });
        stats[String(res.status)] = (stats[String(res.status)] ?? 0) + 1;
        const problems: string[] = [];
        if (res.status >= 500 && !documented.has(String(res.status))) problems.push('undocumented 5xx');
        if (res.status >= 500 && res.status !== 503) problems.push('5xx');
        if (!documented.has(String(res.status)) && !documented.has('default'))
          problems.push('undocumented status');
        if (res.status >= 400) {
          const b = res.body as { code?: string; message?: unknown; http_status?: unknown };
          if (
            !b.code ||
            !(b.code in ERROR_CODES) ||
            typeof b.message !== 'string' ||
            b.http_status !== res.status
          )
            problems.push('not a ServiceError');
        }
        if (problems.length)
          throw new Error(`${problems.join(', ')}: ${res.status} ${res.raw.slice(0, 300)}`);
      });
      const out = await fc.check(property, { seed: SEED, numRuns: RUNS_PER_OPERATION, endOnFailure: true });
      if (out.failed) {
        const example = JSON.stringify(out.counterexample?.[0])?.slice(0, 600);
        failures.push(
          `${name}: ${String(out.errorInstance instanceof Error ? out.errorInstance.message : out.errorInstance)}\n` +
            `  request: ${example}\n  reproduce: FUZZ_SEED=${SEED} (fast-check seed ${out.seed}, path ${out.counterexamplePath})`,
        );
      }
    }
    if (failures.length)
      process.stderr.write(`\nOpenAPI properties, seed ${SEED}:\n${failures.join('\n')}\n`);
    expect(failures).toEqual([]);
  });
});

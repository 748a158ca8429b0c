import { randomUUID } from 'node:crypto';
import { Role, roleRank } from '@app/auth';
import { ErrorCode } from '@app/common';
import { api } from '../support/http';
import { discoverRoutes, EXPECTED_RULES, ResourceKind, Rule } from './route-table';
import { describeAttacks } from './security-attacks';
import { CALLERS, PAN, count, securitySuite } from './security-suite-support';

describe('security suite', () => {
  const s = securitySuite();
  const { captured, secretsUsed, tenantA, tenantB, seeded, headersFor, send, pathOf } = s;

  describe('route table', () => {
    it('has an expected rule for every route the app serves, and no stale rule', () => {
      const discovered = discoverRoutes(s.t.app);
      const keys = discovered.map((r) => r.key);
      expect(keys.filter((k) => !(k in EXPECTED_RULES))).toEqual([]); // "new endpoint without a rule"
      expect(Object.keys(EXPECTED_RULES).filter((k) => !keys.includes(k))).toEqual([]);
    });

    it('matches the declared decorators to the expected rules', () => {
      const actual = Object.fromEntries(
        discoverRoutes(s.t.app).map((r): [string, Rule] => [
          r.key,
          r.isPublic
            ? { public: true }
            : { role: r.role as Role, scopes: [...r.scopes].sort(), tenant: 'none' },
        ]),
      );
      const expected = Object.fromEntries(
        Object.entries(EXPECTED_RULES).map(([k, rule]): [string, Rule] => [
          k,
          rule.public
            ? { public: true }
            : { role: rule.role, scopes: [...rule.scopes].sort(), tenant: 'none' },
        ]),
      );
      expect(actual).toEqual(expected);
      // A non-public route without a role would let any authenticated caller through.
      expect(
        discoverRoutes(s.t.app)
          .filter((r) => !r.isPublic && !r.role)
          .map((r) => r.key),
      ).toEqual([]);
    });
  });

  describe('every endpoint × role × own/other tenant', () => {
    it.each(Object.entries(EXPECTED_RULES))('%s', async (key, rule) => {
      const failures: string[] = [];
      const method = key.split(' ')[0];
      for (const caller of CALLERS) {
        for (const side of ['own', 'other'] as const) {
          const tenant = side === 'own' ? tenantA : tenantB;
          let url = pathOf(key, tenant);
          let payload: object | undefined = method === 'GET' ? undefined : {};
          if (!rule.public && rule.tenant === 'query') url += `?tenant_id=${tenant}`;
          if (!rule.public && rule.tenant === 'body') payload = { tenant_id: tenant };
          const res = await send(method, url, headersFor(caller), payload);
          count('route × role × tenant');
          const got = `${res.status} ${String(res.body.code)}`;
          let want: string;
          if (rule.public) want = 'allowed';
          else if (caller === 'none') want = '401 CONNECT_020';
          else if (roleRank(caller) < roleRank(rule.role)) want = '403 CONNECT_021';
          else if (caller !== 'platform' && side === 'other' && rule.tenant === 'path')
            want = '404 CONNECT_030';
          else if (
            caller !== 'platform' &&
            side === 'other' &&
            (rule.tenant === 'body' || rule.tenant === 'query')
          )
            want = '403 CONNECT_021';
          else want = 'allowed';
          const ok =
            want === 'allowed'
              ? res.status !== 401 && res.status !== 403 && (res.status < 500 || key === 'GET /health/ready')
              : got === want;
          if (!ok) failures.push(`${caller}/${side}: want ${want}, got ${got}`);
          if (res.status >= 400 && typeof res.body.code === 'string' && res.body.http_status !== res.status)
            failures.push(`${caller}/${side}: error body is not a ServiceError`);
        }
      }
      if (!rule.public && rule.scopes.length) {
        const res = await send(
          method,
          pathOf(key, tenantA),
          headersFor('platform', ''),
          method === 'GET' ? undefined : {},
        );
        count('missing scope');
        if (
          res.status !== 403 ||
          JSON.stringify(res.body.details) !== JSON.stringify({ missing_scopes: [...rule.scopes].sort() })
        )
          failures.push(
            `platform without scopes: want 403 missing ${rule.scopes.join(',')}, got ${res.status} ${res.raw}`,
          );
      }
      expect(failures).toEqual([]);
    });
  });

  describe("another tenant's resource by id is a 404, never data", () => {
    const byId = Object.entries(EXPECTED_RULES).filter(
      (e): e is [string, Extract<Rule, { resource?: ResourceKind }> & { resource: ResourceKind }] =>
        !e[1].public && e[1].resource !== undefined && e[1].role !== 'platform',
    );
    it.each(byId)('%s', async (key, rule) => {
      const id = seeded[rule.resource] as string;
      const method = key.split(' ')[0];
      const res = await send(
        method,
        pathOf(key, tenantA, id),
        headersFor('admin'),
        method === 'GET' ? undefined : {},
      );
      count('cross-tenant by id');
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: ErrorCode.NotFound });
      expect(res.raw).not.toContain(tenantB);
      if (method === 'GET') {
        // The id is real: the platform sees it.
        const seen = await send(method, pathOf(key, tenantA, id), headersFor('platform'));
        expect(seen.status).toBe(200);
        if (!key.endsWith('/deliveries')) expect(seen.raw).toContain(tenantB);
      }
    });

    it.each([
      '/connect/payments',
      '/connect/events',
      '/connect/event-subscriptions',
      '/connect/webhooks/events',
      '/connect/audit-log',
      '/connect/reconciliation/runs',
    ])('the list %s shows tenant A nothing of tenant B', async (url) => {
      const res = await send('GET', `${url}?limit=100`, headersFor('admin'));
      count('cross-tenant lists');
      expect(res.status).toBe(200);
      expect(res.raw).not.toContain(tenantB);
      // The audit log may name an id tenant A itself sent (its own failed attempts above); never B's data.
      if (!url.endsWith('audit-log'))
        for (const id of Object.values(seeded)) expect(res.raw).not.toContain(id);
    });
  });

  describe('a malformed id answers like an unknown one: 404 NotFound on every :id route', () => {
    // Routes whose body is required get a valid one, so the answer is about the id, not the body.
    const VALID_BODIES: Record<string, unknown> = {
      'POST /connect/routing/rule-sets/:id/simulate': {
        payment: { tenant_id: tenantA, amount: 1000, currency: 'usd' },
      },
      'POST /connect/routing/rule-sets/:id/replay': {
        from: new Date(Date.now() - 86_400_000).toISOString(),
        to: new Date().toISOString(),
      },
      'POST /connect/reconciliation/items/:id/resolve': { note: 'checked by hand' },
    };
    const idRoutes = Object.entries(EXPECTED_RULES)
      .filter(([key, rule]) => !rule.public && key.includes(':id'))
      .flatMap(([key]) =>
        // 36 dashes passes a loose "uuid-ish" regex but not PostgreSQL's uuid type: it must not reach a query.
        ['not-a-uuid', '-'.repeat(36), randomUUID(), `${randomUUID()}x`].map((id) => [key, id] as const),
      );
    it.each(idRoutes)('%s with id %s', async (key, id) => {
      const method = key.split(' ')[0];
      const res = await send(
        method,
        pathOf(key, tenantA, id),
        headersFor('platform'),
        method === 'GET' || method === 'DELETE' ? undefined : (VALID_BODIES[key] ?? {}),
      );
      count('malformed or unknown ids');
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: ErrorCode.NotFound });
    });
  });

  describe('hostile bodies on every write endpoint: 4xx ServiceError, never 5xx, nothing stored', () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const hostileTenants = ["t' OR '1'='1", '<script>alert(1)</script>'];
    const bodies: [string, string, string?][] = [
      ['malformed JSON', '{"tenant_id": "x", '],
      [
        'wrong types',
        JSON.stringify({
          tenant_id: 12345,
          amount: 'lots',
          name: [],
          url: {},
          role: 7,
          scopes: 'x',
          event_types: 5,
        }),
      ],
      [
        'a huge string',
        JSON.stringify({ name: 'x'.repeat(400_000), url: `https://a.example/${'y'.repeat(400_000)}` }),
      ],
      ['10k levels of nesting', deep],
      [
        'SQL injection',
        JSON.stringify({
          tenant_id: hostileTenants[0],
          name: "'; DROP TABLE audit_log; --",
          url: "https://x.example/'||pg_sleep(5)--",
          metadata: { q: '1; DELETE FROM api_keys' },
        }),
      ],
      [
        'script payloads',
        JSON.stringify({
          tenant_id: hostileTenants[1],
          description: '<img src=x onerror=alert(1)>',
          url: 'javascript:alert(1)',
        }),
      ],
      [
        '__proto__ keys',
        '{"__proto__": {"roles": ["platform"], "isAdmin": true, "tenant_id": "x"}, "a": {"__proto__": {"polluted": "yes"}}}',
      ],
      ['constructor.prototype keys', '{"constructor": {"prototype": {"polluted": "yes"}}, "b": 1}'],
      ['a JSON array', '[{"tenant_id": "x"}]'],
      ['JSON null', 'null'],
      ['a JSON string', '"hello"'],
      ['a card number', JSON.stringify({ metadata: { note: PAN }, description: PAN })],
      ['text/plain', 'tenant_id=x', 'text/plain'],
      ['an empty JSON body', ''],
    ];
    const writes = Object.keys(EXPECTED_RULES).filter((k) => !k.startsWith('GET '));

    /** The newest analytics delta now: the background fold deletes older ones, so only newer ones are counted. */
    async function deltaMark(): Promise<string> {
      const { rows } = await s.db.query<{ m: string }>(
        `SELECT coalesce(max(id), 0) AS m FROM analytics_rollup_deltas`,
      );
      return rows[0].m;
    }

    async function ownedRowCounts(deltasAfter: string): Promise<Record<string, number>> {
      const tenants = [tenantA, tenantB, ...hostileTenants, 'x'];
      const { rows: tables } = await s.db.query<{ table_name: string }>(
        // The analytics rollups are derived by a background job (the minute's fold of earlier deltas), not by requests.
        `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'
           AND table_name <> 'audit_log' AND table_name NOT LIKE 'analytics_rollups%'`,
      );
      const out: Record<string, number> = {};
      for (const { table_name } of tables) {
        const deltas = table_name === 'analytics_rollup_deltas';
        const { rows } = await s.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${table_name}" WHERE tenant_id = ANY($1)${deltas ? ' AND id > $2' : ''}`,
          deltas ? [tenants, deltasAfter] : [tenants],
        );
        out[table_name] = Number(rows[0].n);
      }
      const keys = await s.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM api_keys WHERE created_by = 'suite-platform'`,
      );
      out.api_keys_by_suite = Number(keys.rows[0].n);
      return out;
    }

    it.each(writes)('%s', async (key) => {
      const mark = await deltaMark();
      const before = await ownedRowCounts(mark);
      const failures: string[] = [];
      const method = key.split(' ')[0];
      for (const [name, payload, type] of bodies) {
        for (const caller of ['platform', 'admin'] as const) {
          const res = await send(method, pathOf(key, tenantA), headersFor(caller), payload, type);
          count('hostile bodies');
          const isServiceError =
            typeof res.body.code === 'string' &&
            /^CONNECT_0\d\d$/.test(res.body.code) &&
            res.body.http_status === res.status;
          if (res.status < 400 || res.status >= 500 || !isServiceError)
            failures.push(`${caller}, ${name}: ${res.status} ${res.raw.slice(0, 200)}`);
          if (
            name === 'a card number' &&
            !key.includes('webhooks') &&
            res.status === 400 &&
            res.body.code === ErrorCode.ValidationFailed
          ) {
            if (res.raw.includes('4242')) failures.push(`${caller}, ${name}: the card number was echoed`);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(await ownedRowCounts(mark)).toEqual(before);
    });

    it('refuses a card number in the query and names the field, without echoing it', async () => {
      const res = await send(
        'GET',
        `/connect/payments?tenant_id=${tenantA}&note=${encodeURIComponent(PAN)}`,
        headersFor('admin'),
      );
      count('card numbers');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: ErrorCode.ValidationFailed,
        details: { fields: [{ field: 'note' }] },
      });
      expect(res.raw).not.toContain('4242');
      const body = await send('POST', '/connect/oauth/url', headersFor('admin'), {
        tenant_id: tenantA,
        scope: '4000-0566-5566-5556',
      });
      count('card numbers');
      expect(body.body).toMatchObject({
        code: ErrorCode.ValidationFailed,
        details: { fields: [{ field: 'scope' }] },
      });
    });
  });

  describeAttacks(s);

  describe('HTTP hardening', () => {
    it('sends security headers, keeps CORS closed, limits body size', async () => {
      const hardened = await api(s.t)('GET', '/health/live', { headers: { origin: 'https://evil.example' } });
      count('HTTP hardening');
      expect(hardened.headers['x-content-type-options']).toBe('nosniff');
      expect(hardened.headers['strict-transport-security']).toBeDefined();
      expect(hardened.headers['content-security-policy']).toContain("default-src 'self'");
      expect(hardened.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(hardened.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await api(s.t)('OPTIONS', '/connect/payments', {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      count('HTTP hardening');
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      const big = await send(
        'POST',
        '/connect/payments',
        headersFor('platform'),
        JSON.stringify({ x: 'y'.repeat(1024 * 1024 + 10) }),
      );
      count('HTTP hardening');
      expect(big).toMatchObject({ status: 413, body: { code: ErrorCode.PayloadTooLarge } });
    });
  });

  // Last: the logs of everything above (at debug level) hold none of the secrets, tokens or keys used.
  describe('logs', () => {
    it('contain none of the secrets, tokens or keys the suite used', () => {
      const logs = captured.join('');
      expect(logs.length).toBeGreaterThan(1000);
      expect(logs).toContain('"path":"/connect/api-keys"');
      const leaked = [...secretsUsed].filter((s) => s && s.length >= 16 && logs.includes(s));
      count('secrets checked in logs', secretsUsed.size);
      expect(leaked.map((s) => `${s.slice(0, 12)}…`)).toEqual([]);
      expect(logs).not.toContain(PAN);
      expect(logs).not.toContain('4242424242424242');
      expect(logs).not.toMatch(/Bearer [A-Za-z0-9_-]{10,}/);
      expect(logs).not.toMatch(/ck_test_[0-9a-f]{20}_[A-Za-z0-9_-]{43}/);
    });
  });
});

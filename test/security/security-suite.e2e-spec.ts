import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ROLES, Role, roleRank } from '@app/auth';
import { ALL_SCOPES, bootTestApp, TEST_JWT_SECRET, TestApp, uniqueTenant } from '../utils/test-app';
import { discoverRoutes, EXPECTED_RULES, ResourceKind, Rule } from './route-table';
import { ErrorCode } from '@app/common';
import { sleep } from '../utils/eventually';
import { api } from '../utils/api';

/**
 * The security suite: every endpoint × every role × own/other tenant, generated from the route table;
 * attacks on JWTs, API keys, webhooks and OAuth states; hostile bodies on every write; and, over the whole suite,
 * a capture of every log line proving none of the secrets used here was written.
 */

type Caller = Role | 'none';
const CALLERS: Caller[] = ['none', ...ROLES];
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64url')}`;
const ENCRYPTION_KEY = `suite:${randomBytes(32).toString('base64')}`;
const PAN = '4242 4242 4242 4242';

interface Res {
  status: number;
  body: Record<string, unknown>;
  raw: string;
}

const counts: Record<string, number> = {};
const count = (category: string, n = 1): void => {
  counts[category] = (counts[category] ?? 0) + n;
};

describe('security suite', () => {
  let t: TestApp;
  let db: Client;
  const captured: string[] = [];
  const secretsUsed = new Set<string>([WEBHOOK_SECRET, ENCRYPTION_KEY.split(':')[1], TEST_JWT_SECRET]);
  let writeSpy: jest.SpyInstance;

  const tenantA = uniqueTenant('secA');
  const tenantB = uniqueTenant('secB');
  const seeded: Partial<Record<ResourceKind, string>> = {};

  const token = (
    claims: { sub?: string; tenant_id?: string; roles: Role[]; scope?: string },
    exp?: number | string,
  ): string => {
    const tok = t.token(claims, exp);
    secretsUsed.add(tok);
    return tok;
  };
  const headersFor = (caller: Caller, scope = ALL_SCOPES): Record<string, string> =>
    caller === 'none'
      ? {}
      : {
          authorization: `Bearer ${token({
            sub: `suite-${caller}`,
            roles: [caller],
            tenant_id: caller === 'platform' ? undefined : tenantA,
            scope,
          })}`,
        };
  const send = (
    method: string,
    url: string,
    headers: Record<string, string>,
    payload?: string | object,
    contentType = 'application/json',
  ): Promise<Res> => api(t)(method as 'GET', url, { headers, body: payload, contentType });
  const pathOf = (key: string, tenant: string, id: string = randomUUID()): string =>
    key.split(' ')[1].replace(':tenantId', tenant).replace(':id', id);

  beforeAll(async () => {
    writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
    t = await bootTestApp({
      LOG_LEVEL: 'debug',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ENCRYPTION_KEY,
      API_KEY_ROTATION_GRACE_SECONDS: '0',
    });
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();

    // Resources of tenant B that tenant A must never see.
    const pay = await db.query<{ id: string }>(
      `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, amount, currency, stripe_idempotency_key)
       VALUES ($1, 'acct_secB', (enum_range(NULL::payment_route_type))[1], 1000, 'usd', $2) RETURNING id`,
      [tenantB, `idem_${randomUUID()}`],
    );
    seeded.payment = pay.rows[0].id;
    const ev = await db.query<{ id: string }>(
      `INSERT INTO connect_events (type, tenant_id) VALUES ('connect.payment.completed', $1) RETURNING id`,
      [tenantB],
    );
    seeded.connect_event = ev.rows[0].id;
    const wh = await db.query<{ id: string }>(
      `INSERT INTO stripe_webhook_events (stripe_event_id, type, tenant_id, livemode, event_created, payload, status)
       VALUES ($1, 'account.updated', $2, false, 1764130000, '{}', 'processed') RETURNING id`,
      [`evt_sec_${randomUUID()}`, tenantB],
    );
    seeded.webhook_event = wh.rows[0].id;
    const run = await db.query<{ id: string }>(
      `INSERT INTO reconciliation_runs (tenant_id, window_from, window_to, grace_seconds, trigger, status)
       VALUES ($1, now() - interval '1 day', now(), 900, 'manual', 'completed') RETURNING id`,
      [tenantB],
    );
    seeded.reconciliation_run = run.rows[0].id;
    await db.query(
      `INSERT INTO reconciliation_items (run_id, last_run_id, tenant_id, scope, identity, category, status, object_created_at)
       VALUES ($1, $1, $2, 'live', $3, 'duplicate', 'mismatched', now())`,
      [seeded.reconciliation_run, tenantB, `duplicate|-|pi_${randomUUID()}`],
    );
    const sub = await send('POST', '/connect/event-subscriptions', headersFor('platform'), {
      url: 'https://tenant-b.example.com/hooks',
      event_types: ['*'],
      tenant_id: tenantB,
    });
    expect(sub.status).toBe(201);
    seeded.event_subscription = sub.body.id as string;
    secretsUsed.add(sub.body.secret as string);
    const key = await send('POST', '/connect/api-keys', headersFor('platform'), {
      name: 'tenant-b',
      role: 'admin',
      scopes: ['payments:read'],
      tenant_id: tenantB,
    });
    expect(key.status).toBe(201);
    seeded.api_key = key.body.id as string;
    secretsUsed.add(key.body.key as string);
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    writeSpy?.mockRestore();
    // Case counts per category, so a shrinking suite shows in the log.
    process.stderr.write(`\nsecurity suite cases: ${JSON.stringify(counts)}\n`);
  });

  describe('route table', () => {
    it('has an expected rule for every route the app serves, and no stale rule', () => {
      const discovered = discoverRoutes(t.app);
      const keys = discovered.map((r) => r.key);
      expect(keys.filter((k) => !(k in EXPECTED_RULES))).toEqual([]); // "new endpoint without a rule"
      expect(Object.keys(EXPECTED_RULES).filter((k) => !keys.includes(k))).toEqual([]);
    });

    it('matches the declared decorators to the expected rules', () => {
      const actual = Object.fromEntries(
        discoverRoutes(t.app).map((r): [string, Rule] => [
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
        discoverRoutes(t.app)
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

    async function ownedRowCounts(): Promise<Record<string, number>> {
      const tenants = [tenantA, tenantB, ...hostileTenants, 'x'];
      const { rows: tables } = await db.query<{ table_name: string }>(
        // The analytics rollups are derived by a background job (the minute's fold of earlier deltas), not by requests.
        `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'
           AND table_name <> 'audit_log' AND table_name NOT LIKE 'analytics_rollups%'`,
      );
      const out: Record<string, number> = {};
      for (const { table_name } of tables) {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${table_name}" WHERE tenant_id = ANY($1)`,
          [tenants],
        );
        out[table_name] = Number(rows[0].n);
      }
      const keys = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM api_keys WHERE created_by = 'suite-platform'`,
      );
      out.api_keys_by_suite = Number(keys.rows[0].n);
      return out;
    }

    it.each(writes)('%s', async (key) => {
      const before = await ownedRowCounts();
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
      expect(await ownedRowCounts()).toEqual(before);
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

  describe('attacks', () => {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const craft = (header: object, payload: object, key: string | null): string => {
      const input = `${b64(header)}.${b64(payload)}`;
      const sig = key === null ? '' : createHmac('sha256', key).update(input).digest('base64url');
      const tok = `${input}.${sig}`;
      secretsUsed.add(tok);
      return tok;
    };
    const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
      sub: 'attacker',
      roles: ['platform'],
      scope: ALL_SCOPES,
      exp: Math.floor(Date.now() / 1000) + 600,
      ...over,
    });

    it.each<[string, () => string]>([
      ['alg none', () => craft({ alg: 'none', typ: 'JWT' }, claims(), null)],
      ['HS512', () => craft({ alg: 'HS512', typ: 'JWT' }, claims(), TEST_JWT_SECRET)],
      ['a wrong secret', () => craft({ alg: 'HS256', typ: 'JWT' }, claims(), `${TEST_JWT_SECRET}x`)],
      ['no exp', () => craft({ alg: 'HS256', typ: 'JWT' }, claims({ exp: undefined }), TEST_JWT_SECRET)],
      ['an expired exp', () => craft({ alg: 'HS256', typ: 'JWT' }, claims({ exp: 1 }), TEST_JWT_SECRET)],
      [
        'a tampered payload',
        () => {
          const [h, , sig] = token({ roles: ['viewer'], tenant_id: tenantA }).split('.');
          return `${h}.${b64(claims())}.${sig}`;
        },
      ],
    ])('JWT with %s: 401 on every protected route', async (_name, make) => {
      const tok = make();
      for (const key of Object.keys(EXPECTED_RULES).filter((k) => !EXPECTED_RULES[k].public)) {
        const res = await send(
          key.split(' ')[0],
          pathOf(key, tenantA),
          { authorization: `Bearer ${tok}` },
          key.startsWith('GET') ? undefined : {},
        );
        count('JWT attacks');
        expect(`${key}: ${res.status} ${String(res.body.code)}`).toBe(`${key}: 401 CONNECT_020`);
      }
    });

    it('API keys: revoked, rotated-out (grace 0) and expired keys are refused', async () => {
      const platform = headersFor('platform');
      const mk = async (over: object = {}): Promise<{ id: string; key: string }> => {
        const res = await send('POST', '/connect/api-keys', platform, {
          name: 'k',
          role: 'platform',
          scopes: [],
          ...over,
        });
        expect(res.status).toBe(201);
        secretsUsed.add(res.body.key as string);
        return { id: res.body.id as string, key: res.body.key as string };
      };
      const probe = async (k: string): Promise<number> => {
        count('API key attacks');
        return (await send('GET', '/connect/api-keys?limit=1', { 'x-api-key': k })).status;
      };
      const revoked = await mk();
      expect(await probe(revoked.key)).toBe(200);
      await send('DELETE', `/connect/api-keys/${revoked.id}`, platform);
      expect(await probe(revoked.key)).toBe(401);
      const rotated = await mk();
      expect(await probe(rotated.key)).toBe(200);
      const next = await send('POST', `/connect/api-keys/${rotated.id}/rotate`, platform);
      secretsUsed.add(next.body.key as string);
      expect(await probe(rotated.key)).toBe(401);
      expect(await probe(next.body.key as string)).toBe(200);
      const expiring = await mk({ expires_at: new Date(Date.now() + 600).toISOString() });
      expect(await probe(expiring.key)).toBe(200);
      await sleep(700);
      expect(await probe(expiring.key)).toBe(401);
      // A key and a token together are refused rather than one picked.
      expect(
        (
          await send('GET', '/connect/api-keys?limit=1', {
            'x-api-key': next.body.key as string,
            ...platform,
          })
        ).status,
      ).toBe(401);
    });

    const stripeEvent = (id: string): string =>
      JSON.stringify({
        id,
        object: 'event',
        type: 'account.updated',
        api_version: '2025-10-29.clover',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: { id: 'acct_suite_unknown', object: 'account' } },
      });
    const sign = (payload: string, secret: string, ts = Math.floor(Date.now() / 1000)): string =>
      `t=${ts},v1=${createHmac('sha256', secret).update(`${ts}.${payload}`).digest('hex')}`;

    it('webhooks: forged, replayed (stale timestamp) and unsigned deliveries are refused and audited; duplicates are no-ops', async () => {
      const id = `evt_suite_${randomUUID().replace(/-/g, '')}`;
      const payload = stripeEvent(id);
      // From an address of their own: refusals are audited up to 20 per IP and minute, and the cases above spend
      // 127.0.0.1's budget faster the faster the service answers.
      const from = { 'x-forwarded-for': `198.51.100.${1 + Math.floor(Math.random() * 250)}` };
      const post = (sig?: string): Promise<Res> =>
        send('POST', '/connect/webhooks', sig ? { ...from, 'stripe-signature': sig } : from, payload);
      const cases: [string, string | undefined][] = [
        ['forged', sign(payload, `whsec_${randomBytes(24).toString('base64url')}`)],
        ['replayed', sign(payload, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600)],
        ['unsigned', undefined],
        ['garbage header', 't=abc,v1=zz'],
      ];
      for (const [name, sig] of cases) {
        const res = await post(sig);
        count('webhook attacks');
        expect(`${name}: ${res.status} ${String(res.body.code)}`).toBe(`${name}: 400 CONNECT_004`);
      }
      const tampered = await send(
        'POST',
        '/connect/webhooks',
        { ...from, 'stripe-signature': sign(payload, WEBHOOK_SECRET) },
        payload.replace('acct_suite_unknown', 'acct_other'),
      );
      count('webhook attacks');
      expect(tampered.status).toBe(400);
      const good = sign(payload, WEBHOOK_SECRET);
      expect((await post(good)).body).toMatchObject({ received: true, duplicate: false });
      expect((await post(good)).body).toMatchObject({ received: true, duplicate: true });
      count('webhook attacks', 2);
      const rows = await db.query('SELECT 1 FROM stripe_webhook_events WHERE stripe_event_id = $1', [id]);
      expect(rows.rowCount).toBe(1);
      await sleep(200);
      const audited = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_log WHERE action = 'webhook.signature_failed' AND created_at > now() - interval '1 minute'`,
      );
      expect(Number(audited.rows[0].n)).toBeGreaterThanOrEqual(5);
    });

    it('OAuth: forged, foreign and reused states are refused', async () => {
      const json = { accept: 'application/json' };
      const forged = await send(
        'GET',
        `/connect/oauth/callback?code=ac_x&state=${randomBytes(24).toString('base64url')}`,
        json,
      );
      count('OAuth state attacks');
      expect(forged).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
      const started = await send('POST', '/connect/oauth/url', headersFor('admin'), { tenant_id: tenantA });
      expect(started.status).toBe(201);
      const state = started.body.state as string;
      secretsUsed.add(state);
      const foreign = await send(
        'GET',
        `/connect/oauth/callback?code=ac_x&state=${state}&tenant_id=${tenantB}`,
        json,
      );
      count('OAuth state attacks');
      expect(foreign).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
      const declined = await send('GET', `/connect/oauth/callback?error=access_denied&state=${state}`, json);
      count('OAuth state attacks');
      expect(declined.status).toBe(400);
      const reused = await send('GET', `/connect/oauth/callback?code=ac_x&state=${state}`, json);
      count('OAuth state attacks');
      expect(reused).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
    });
  });

  describe('HTTP hardening', () => {
    it('sends security headers, keeps CORS closed, limits body size', async () => {
      const hardened = await api(t)('GET', '/health/live', { headers: { origin: 'https://evil.example' } });
      count('HTTP hardening');
      expect(hardened.headers['x-content-type-options']).toBe('nosniff');
      expect(hardened.headers['strict-transport-security']).toBeDefined();
      expect(hardened.headers['content-security-policy']).toContain("default-src 'self'");
      expect(hardened.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(hardened.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await api(t)('OPTIONS', '/connect/payments', {
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

import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { ALL_SCOPES, bootTestApp, TEST_JWT_SECRET, TestApp, uniqueTenant } from '../support/app';

/** A token as an identity provider would mint it, with the claims the helper does not set (jti, sid, iat, nbf). */
function idpToken(claims: Record<string, unknown>, opts: { ttl?: number; iat?: number } = {}): string {
  const iat = opts.iat ?? Math.floor(Date.now() / 1000);
  return sign({ scope: ALL_SCOPES, iat, exp: iat + (opts.ttl ?? 600), ...claims }, TEST_JWT_SECRET, {
    algorithm: 'HS256',
  });
}

const LIST = '/connect/payments?limit=1';

/** Two replicas (two apps on the run's database and Redis): a revocation on A refuses the token on B within 1 s. */
describe('JWT revocation across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  const platform = () => a.token({ sub: 'platform-backend', roles: ['platform'] });
  const status = async (t: TestApp, token: string) =>
    (await api(t)('GET', LIST, { headers: { authorization: `Bearer ${token}` } })).status;
  const revoke = async (token: string, body: Record<string, unknown>) =>
    api(a)('POST', '/connect/auth/revocations', { token, body });

  /** Revokes on A and answers how long B took to refuse `victim` (it was accepted, and cached, on both). */
  async function revokedOnBWithin(body: Record<string, unknown>, victim: string): Promise<number> {
    expect(await status(a, victim)).toBe(200);
    expect(await status(b, victim)).toBe(200);
    const res = await revoke(platform(), body);
    expect(res.status).toBe(201);
    const started = Date.now();
    // The replica that took the revocation refuses at once, cached token or not.
    expect(await status(a, victim)).toBe(401);
    await eventually('B to refuse the revoked token', async () => (await status(b, victim)) === 401, {
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    return Date.now() - started;
  }

  beforeAll(async () => {
    a = await bootTestApp({ JWT_MAX_TTL_SECONDS: '3600' });
    b = await bootTestApp({ JWT_MAX_TTL_SECONDS: '3600' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('revokes one token by jti, and only that token', async () => {
    const tenant = uniqueTenant();
    const victim = idpToken({ sub: 'u1', tenant_id: tenant, roles: ['viewer'], jti: `jti-${tenant}` });
    const other = idpToken({ sub: 'u1', tenant_id: tenant, roles: ['viewer'], jti: `other-${tenant}` });
    expect(await revokedOnBWithin({ jti: `jti-${tenant}` }, victim)).toBeLessThan(1_000);
    expect(await status(b, other)).toBe(200);
    const refused = await api(b)('GET', LIST, { headers: { authorization: `Bearer ${victim}` } });
    expect(refused.body).toMatchObject({ message: 'Token revoked', http_status: 401 });
  });

  it('revokes a subject issued before a time; a token issued after it works', async () => {
    const tenant = uniqueTenant();
    const now = Math.floor(Date.now() / 1000);
    const old = idpToken({ sub: 'alice', tenant_id: tenant, roles: ['viewer'] }, { iat: now - 10 });
    const elsewhere = idpToken({ sub: 'bob', tenant_id: tenant, roles: ['viewer'] }, { iat: now - 10 });
    const issuedBefore = new Date((now - 5) * 1000).toISOString();
    expect(await revokedOnBWithin({ sub: 'alice', issued_before: issuedBefore }, old)).toBeLessThan(1_000);
    const fresh = idpToken({ sub: 'alice', tenant_id: tenant, roles: ['viewer'] });
    expect(await status(b, fresh)).toBe(200);
    expect(await status(b, elsewhere)).toBe(200);
  });

  it('revokes a whole tenant issued before a time, and no other tenant', async () => {
    const tenant = uniqueTenant();
    const neighbour = uniqueTenant();
    const now = Math.floor(Date.now() / 1000);
    const old = idpToken({ sub: 'carol', tenant_id: tenant, roles: ['admin'] }, { iat: now - 10 });
    const theirs = idpToken({ sub: 'carol', tenant_id: neighbour, roles: ['admin'] }, { iat: now - 10 });
    const body = { tenant_id: tenant, issued_before: new Date((now - 5) * 1000).toISOString() };
    expect(await revokedOnBWithin(body, old)).toBeLessThan(1_000);
    expect(await status(b, theirs)).toBe(200);
    expect(await status(b, idpToken({ sub: 'carol', tenant_id: tenant, roles: ['admin'] }))).toBe(200);
  });

  it('revokes one identity-provider login session by sid (back-channel logout)', async () => {
    const tenant = uniqueTenant();
    const sid = `sid-${tenant}`;
    const session = idpToken({ sub: 'dave', tenant_id: tenant, roles: ['viewer'], sid, jti: 'x1' });
    const otherSession = idpToken({ sub: 'dave', tenant_id: tenant, roles: ['viewer'], sid: `${sid}-2` });
    expect(await revokedOnBWithin({ sid }, session)).toBeLessThan(1_000);
    expect(await status(b, otherSession)).toBe(200);
  });

  it('lets an admin revoke only within its own tenant, and lists what is active', async () => {
    const tenant = uniqueTenant();
    const neighbour = uniqueTenant();
    const admin = a.token({ sub: 'admin-1', tenant_id: tenant, roles: ['admin'] });
    const mine = idpToken(
      { sub: 'erin', tenant_id: tenant, roles: ['viewer'] },
      { iat: Date.now() / 1000 - 10 },
    );
    const sameSubElsewhere = idpToken(
      { sub: 'erin', tenant_id: neighbour, roles: ['viewer'] },
      { iat: Date.now() / 1000 - 10 },
    );
    const issued_before = new Date(Date.now() - 5_000).toISOString();
    const denied = await revoke(admin, { tenant_id: neighbour, issued_before });
    expect(denied.status).toBe(403);
    const viewer = a.token({ sub: 'v', tenant_id: tenant, roles: ['viewer'] });
    expect((await revoke(viewer, { sub: 'erin', issued_before })).status).toBe(403);
    const created = await revoke(admin, { sub: 'erin', issued_before, reason: 'laptop stolen' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'sub',
      value: 'erin',
      tenant_id: tenant,
      reason: 'laptop stolen',
    });
    expect(await status(a, mine)).toBe(401);
    expect(await status(a, sameSubElsewhere)).toBe(200);

    const listed = await api(b)('GET', '/connect/auth/revocations?limit=10', { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    const all = await api(b)('GET', `/connect/auth/revocations?tenant_id=${tenant}`, { token: platform() });
    expect(all.body.data).toHaveLength(1);
    expect(Date.parse(created.body.expires_at)).toBe(Date.parse(issued_before) + 3_600_000);
  });

  it('refuses bodies that name no form, two forms, or a time that covers nothing', async () => {
    const p = platform();
    const bad = [
      {},
      { jti: 'a', sub: 'b', issued_before: new Date().toISOString() },
      { sub: 'b' },
      { jti: 'a', issued_before: new Date().toISOString() },
      { tenant_id: 't', issued_before: new Date(Date.now() + 3_600_000).toISOString() },
      { tenant_id: 't', issued_before: new Date(Date.now() - 2 * 3_600_000).toISOString() },
      { sub: 'b', issued_before: 'yesterday' },
    ];
    for (const body of bad) expect([(await revoke(p, body)).status, body]).toEqual([400, body]);
  });

  it('refuses a token living longer than JWT_MAX_TTL_SECONDS, one without iat, and one not yet valid (nbf)', async () => {
    const claims = { sub: 'f', tenant_id: uniqueTenant(), roles: ['viewer'] };
    expect(await status(a, idpToken(claims, { ttl: 3_600 }))).toBe(200);
    expect(await status(a, idpToken(claims, { ttl: 3_601 }))).toBe(401);
    const noIat = sign({ ...claims, scope: ALL_SCOPES }, TEST_JWT_SECRET, {
      noTimestamp: true,
      expiresIn: 60,
    });
    expect(await status(a, noIat)).toBe(401);
    const later = idpToken({ ...claims, nbf: Math.floor(Date.now() / 1000) + 60 });
    expect(await status(a, later)).toBe(401);
    const future = idpToken(claims, { iat: Math.floor(Date.now() / 1000) + 120 });
    expect(await status(a, future)).toBe(401);
  });

  it('audits revocations and refusals and counts them', async () => {
    const tenant = uniqueTenant();
    const victim = idpToken({ sub: 'g', tenant_id: tenant, roles: ['viewer'], jti: `audit-${tenant}` });
    const created = await revoke(platform(), { jti: `audit-${tenant}` });
    for (let i = 0; i < 3; i++) expect(await status(a, victim)).toBe(401);
    const db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    try {
      const rows = await eventually('the audit rows', async () => {
        const { rows } = await db.query<{ action: string; outcome: string }>(
          `SELECT action, outcome FROM audit_log WHERE target_id = $1 ORDER BY created_at`,
          [created.body.id],
        );
        return rows.length >= 4 ? rows : null;
      });
      expect(rows[0]).toEqual({ action: 'auth.revocation.create', outcome: 'success' });
      expect(rows.slice(1).every((r) => r.action === 'auth.revoked_token_refused')).toBe(true);
    } finally {
      await db.end();
    }
    const metrics = (await api(a)('GET', '/metrics')).raw;
    expect(metrics).toMatch(/connect_auth_revocations_total\{kind="jti"\} [1-9]/);
    expect(metrics).toMatch(/connect_auth_revoked_token_refusals_total\{kind="jti"\} [1-9]/);
  });
});

describe('the documented revocation example', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootTestApp();
  });
  afterAll(async () => t?.close());

  it('is a valid request on a fresh service', async () => {
    const doc = (await api(t)('GET', '/docs-json')).body;
    const ref =
      doc.paths['/connect/auth/revocations'].post.requestBody.content['application/json'].schema.$ref;
    const props = doc.components.schemas[ref.split('/').pop()].properties as Record<
      string,
      { example?: unknown }
    >;
    const body = Object.fromEntries(
      Object.entries(props)
        .filter(([, p]) => p.example !== undefined)
        .map(([k, p]) => [k, p.example]),
    );
    expect(Object.keys(body).sort()).toEqual(['issued_before', 'reason', 'sub']);
    const res = await api(t)('POST', '/connect/auth/revocations', {
      token: t.token({ roles: ['platform'] }),
      body,
    });
    expect(res.status).toBe(201);
  });
});

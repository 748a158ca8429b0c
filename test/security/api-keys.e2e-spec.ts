import { Client } from 'pg';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { ErrorCode } from '@app/common';
import { sleep } from '../utils/eventually';
import { api, ApiResponse } from '../support/http';

type Res = ApiResponse;

describe('API keys', () => {
  let t: TestApp;
  let db: Client;
  const platform = (): Record<string, string> => ({
    authorization: `Bearer ${t.token({ sub: 'platform-admin', roles: ['platform'] })}`,
  });
  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    payload?: object,
  ): Promise<Res> => api(t)(method, url, { headers, body: payload });
  const createKey = async (over: Record<string, unknown> = {}): Promise<Res> =>
    call('POST', '/connect/api-keys', platform(), {
      name: 'order-service',
      role: 'operator',
      scopes: ['payments:read', 'accounts:read'],
      tenant_id: uniqueTenant(),
      ...over,
    });
  const asKey = (key: string): Record<string, string> => ({ 'x-api-key': key });

  beforeAll(async () => {
    t = await bootTestApp({ API_KEY_ROTATION_GRACE_SECONDS: '2', RATE_LIMIT_ENABLED: 'false' });
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('issues a key shown once, stores only its hash, and authenticates with it through the same guards', async () => {
    const tenant = uniqueTenant();
    const created = await createKey({ tenant_id: tenant });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^ck_test_[0-9a-f]{20}_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({
      role: 'operator',
      tenant_id: tenant,
      scopes: ['accounts:read', 'payments:read'],
    });
    expect(key.startsWith(`${created.body.key_prefix as string}_`)).toBe(true);

    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
      created.body.id,
    ]);
    expect(JSON.stringify(rows[0])).not.toContain(key.slice(29));
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const listed = await call('GET', `/connect/api-keys?tenant_id=${tenant}`, platform());
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(29));
    expect(listed.body.data).toEqual([expect.not.objectContaining({ key: expect.anything() as unknown })]);

    // Same guards as a JWT: own tenant yes, another tenant 404, missing scope 403, platform route 403.
    const own = await call('GET', `/connect/accounts/${tenant}`, asKey(key));
    expect([200, 404]).toContain(own.status);
    if (own.status === 404) expect(own.body.message).not.toBe('No route');
    expect((await call('GET', `/connect/accounts/${uniqueTenant()}`, asKey(key))).status).toBe(404);
    expect((await call('GET', '/connect/events', asKey(key))).status).toBe(403);
    expect((await call('GET', '/connect/api-keys', asKey(key))).status).toBe(403);

    // last_used_at is written off the request path.
    await sleep(300);
    const used = await db.query<{ last_used_at: Date | null }>(
      'SELECT last_used_at FROM api_keys WHERE id = $1',
      [created.body.id],
    );
    expect(used.rows[0].last_used_at).toBeInstanceOf(Date);
  });

  it('refuses escalation and tenant-less non-platform keys', async () => {
    const limited = t.token({ sub: 'p2', roles: ['platform'], scope: 'payments:read' });
    const res = await call(
      'POST',
      '/connect/api-keys',
      { authorization: `Bearer ${limited}` },
      {
        name: 'x',
        role: 'viewer',
        scopes: ['payments:write'],
        tenant_id: 't1',
      },
    );
    expect(res).toMatchObject({
      status: 403,
      body: { code: ErrorCode.Forbidden, details: { missing_scopes: ['payments:write'] } },
    });
    const noTenant = await createKey({ tenant_id: undefined });
    expect(noTenant).toMatchObject({ status: 400, body: { code: ErrorCode.ValidationFailed } });
    const past = await createKey({ expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(past).toMatchObject({ status: 400, body: { code: ErrorCode.ValidationFailed } });
    const admin = t.token({ roles: ['admin'], tenant_id: 't1' });
    expect(
      (
        await call(
          'POST',
          '/connect/api-keys',
          { authorization: `Bearer ${admin}` },
          { name: 'x', role: 'viewer', scopes: [] },
        )
      ).status,
    ).toBe(403);
  });

  it('revocation is immediate, and idempotent', async () => {
    const created = await createKey({ role: 'platform', tenant_id: undefined, scopes: [] });
    const key = created.body.key as string;
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(key))).status).toBe(200);
    const revoked = await call('DELETE', `/connect/api-keys/${created.body.id as string}`, platform());
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const after = await call('GET', '/connect/api-keys?limit=1', asKey(key));
    expect(after).toMatchObject({
      status: 401,
      body: { code: ErrorCode.Unauthenticated, message: 'Invalid API key' },
    });
    expect((await call('DELETE', `/connect/api-keys/${created.body.id as string}`, platform())).status).toBe(
      200,
    );
    expect(
      (await call('DELETE', '/connect/api-keys/00000000-0000-4000-8000-000000000000', platform())).status,
    ).toBe(404);
  });

  it('rotation: the new key works at once, the old one during the grace period and not after', async () => {
    const created = await createKey({ role: 'platform', tenant_id: undefined, scopes: [] });
    const oldKey = created.body.key as string;
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(oldKey))).status).toBe(200);
    const rotated = await call('POST', `/connect/api-keys/${created.body.id as string}/rotate`, platform());
    expect(rotated.status).toBe(201);
    const newKey = rotated.body.key as string;
    expect(newKey).not.toBe(oldKey);
    expect(rotated.body).toMatchObject({ role: 'platform', scopes: [], tenant_id: null });
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(newKey))).status).toBe(200);
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(oldKey))).status).toBe(200);
    // Rotating the rotated-out key again is a conflict (one successor per key).
    expect(
      (await call('POST', `/connect/api-keys/${created.body.id as string}/rotate`, platform())).status,
    ).toBe(409);
    await sleep(2300);
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(oldKey))).status).toBe(401);
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(newKey))).status).toBe(200);
  });

  it('refuses an expired key, a tampered secret, a key of another environment and garbage', async () => {
    const created = await createKey({
      role: 'platform',
      tenant_id: undefined,
      scopes: [],
      expires_at: new Date(Date.now() + 1200).toISOString(),
    });
    const key = created.body.key as string;
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(key))).status).toBe(200);
    const tampered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(tampered))).status).toBe(401);
    expect(
      (await call('GET', '/connect/api-keys?limit=1', asKey(key.replace('ck_test_', 'ck_live_')))).status,
    ).toBe(401);
    for (const junk of ['x', 'ck_test_', `${key}x`, `' OR 1=1 --`]) {
      expect((await call('GET', '/connect/api-keys?limit=1', asKey(junk))).status).toBe(401);
    }
    await sleep(1400);
    expect((await call('GET', '/connect/api-keys?limit=1', asKey(key))).status).toBe(401);
  });

  it('audits create, rotate and revoke in their transactions, and authentication failures after the response', async () => {
    const tenant = uniqueTenant();
    const created = await createKey({ tenant_id: tenant });
    const id = created.body.id as string;
    await call('POST', `/connect/api-keys/${id}/rotate`, platform());
    await call('DELETE', `/connect/api-keys/${id}`, platform());
    const log = await call('GET', `/connect/audit-log?tenant_id=${tenant}`, platform());
    expect(log.status).toBe(200);
    const actions = (
      log.body.data as { action: string; actor: string; target_id: string; outcome: string }[]
    ).map((e) => [e.action, e.actor, e.target_id, e.outcome]);
    expect(actions).toEqual([
      ['api_key.revoke', 'platform-admin', id, 'success'],
      ['api_key.rotate', 'platform-admin', id, 'success'],
      ['api_key.create', 'platform-admin', id, 'success'],
    ]);
    // A tenant admin sees its own tenant only.
    const admin = { authorization: `Bearer ${t.token({ sub: 'adm', roles: ['admin'], tenant_id: tenant })}` };
    const own = await call('GET', '/connect/audit-log', admin);
    expect((own.body.data as { tenant_id: string }[]).every((e) => e.tenant_id === tenant)).toBe(true);
    expect((await call('GET', `/connect/audit-log?tenant_id=${uniqueTenant()}`, admin)).status).toBe(403);
    expect(
      (
        await call('GET', '/connect/audit-log', {
          authorization: `Bearer ${t.token({ roles: ['operator'], tenant_id: tenant })}`,
        })
      ).status,
    ).toBe(403);

    const requestId = `sec-${Date.now()}`;
    await api(t)('GET', '/connect/api-keys', { headers: { 'x-api-key': 'nope', 'x-request-id': requestId } });
    await sleep(200);
    const { rows } = await db.query<Record<string, unknown>>(
      'SELECT * FROM audit_log WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'auth.authentication_failed',
        outcome: 'failure',
        actor_type: 'anonymous',
        target_id: 'GET /connect/api-keys',
      }),
    ]);
  });

  it('audits @Audit routes after the outcome: an account disconnect that failed', async () => {
    const tenant = uniqueTenant();
    const admin = {
      authorization: `Bearer ${t.token({ sub: 'adm-2', roles: ['admin'], tenant_id: tenant })}`,
    };
    const res = await call('DELETE', `/connect/accounts/${tenant}`, admin);
    expect(res.status).toBeGreaterThanOrEqual(400);
    await sleep(200);
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE tenant_id = $1', [
      tenant,
    ]);
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'account.disconnect',
        outcome: 'failure',
        actor: 'adm-2',
        actor_type: 'user',
        target_id: tenant,
        details: { code: res.body.code },
      }),
    ]);
  });

  it.each(['/connect/api-keys', '/connect/audit-log'])(
    'pages %s newest first, every row once, with the same rows as one big page',
    async (list) => {
      const tenant = uniqueTenant('page');
      for (let i = 0; i < 5; i++) expect((await createKey({ tenant_id: tenant })).status).toBe(201);
      const all = await call('GET', `${list}?tenant_id=${tenant}&limit=100`, platform());
      const ids = (all.body.data as { id: string }[]).map((r) => r.id);
      expect(ids.length).toBeGreaterThanOrEqual(5);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(
          'GET',
          `${list}?tenant_id=${tenant}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          platform(),
        );
        expect(page.status).toBe(200);
        paged.push(...(page.body.data as { id: string }[]).map((r) => r.id));
        cursor = page.body.next_cursor as string | null;
        expect(page.body.has_more).toBe(cursor !== null);
      } while (cursor);
      expect(paged).toEqual(ids);
    },
  );

  it('keeps the audit log append-only in the database', async () => {
    await expect(db.query(`UPDATE audit_log SET action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
  });
});

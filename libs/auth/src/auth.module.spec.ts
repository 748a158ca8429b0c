import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ErrorCode } from '@app/common';
import { sign } from 'jsonwebtoken';
import { signAccessToken } from './token-signer';
import {
  b64,
  SECRET,
  rsa,
  buildApp,
  now,
  craft,
  hmac,
  rs256,
  claims,
  hsToken,
  call,
  bearer,
  expectError,
} from './auth-spec-support';

describe('AuthModule with HS256 (JWT_SECRET), iss and aud configured', () => {
  let app: NestFastifyApplication;
  const iss = 'https://idp.test';
  const aud = 'connect-service';
  const good = (over: Record<string, unknown> = {}): string => hsToken({ iss, aud, ...over });

  beforeAll(async () => {
    app = await buildApp(Test, { secret: SECRET, issuer: iss, audience: aud });
  });
  afterAll(async () => app.close());

  it('accepts a good token and exposes the Caller', async () => {
    const res = await call(app, 'GET', '/me', bearer(good()));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sub: 'user-1',
      tenantId: 't1',
      roles: ['admin'],
      scopes: ['accounts:write', 'payments:read'],
      method: 'jwt',
    });
  });

  it('accepts a token made by signAccessToken', async () => {
    const token = signAccessToken(
      { sub: 'svc', roles: ['platform'], scope: 'accounts:read' },
      { secret: SECRET, issuer: iss, audience: aud },
    );
    const res = await call(app, 'GET', '/me', bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'svc', tenantId: null, roles: ['platform'] });
  });

  it('lets @Public() routes through without credentials, even with a bad token', async () => {
    expect((await call(app, 'GET', '/public')).status).toBe(200);
    expect((await call(app, 'GET', '/public', bearer('garbage'))).status).toBe(200);
    expect((await call(app, 'GET', '/probe')).status).toBe(200);
  });

  it('answers 401 CONNECT_020 without credentials, with a non-bearer scheme, or with garbage', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      bearer('garbage'),
      { authorization: 'Bearer' },
    ]) {
      const res = await call(app, 'GET', '/me', headers);
      expectError(res, 401, ErrorCode.Unauthenticated);
    }
    expect((await call(app, 'GET', '/me')).body.message).toBe('Authentication required');
  });

  const attacks: [string, () => string][] = [
    ['alg none', () => craft({ alg: 'none', typ: 'JWT' }, claims({ iss, aud }), () => '')],
    [
      'alg none with a signature',
      () => craft({ alg: 'none', typ: 'JWT' }, claims({ iss, aud }), hmac(SECRET)),
    ],
    ['alg NONE', () => craft({ alg: 'NONE', typ: 'JWT' }, claims({ iss, aud }), () => '')],
    [
      'RS256 when HS256 is configured',
      () => craft({ alg: 'RS256', typ: 'JWT' }, claims({ iss, aud }), rs256(rsa.privateKey)),
    ],
    ['HS512 with the right secret', () => sign(claims({ iss, aud }), SECRET, { algorithm: 'HS512' })],
    ['a wrong secret', () => craft({ alg: 'HS256', typ: 'JWT' }, claims({ iss, aud }), hmac(`${SECRET}x`))],
    [
      'a tampered payload',
      () => {
        const [h, , s] = good().split('.');
        return `${h}.${b64(claims({ iss, aud, roles: ['platform'] }))}.${s}`;
      },
    ],
    ['no exp', () => hsToken({ iss, aud, exp: undefined })],
    ['a string exp', () => hsToken({ iss, aud, exp: String(now() + 600) })],
    ['an expired exp', () => hsToken({ iss, aud, exp: now() - 60 })],
    ['a future nbf', () => hsToken({ iss, aud, nbf: now() + 600 })],
    ['a wrong iss', () => hsToken({ iss: 'https://evil.test', aud })],
    ['no iss', () => hsToken({ aud })],
    ['a wrong aud', () => hsToken({ iss, aud: 'other-service' })],
    ['no aud', () => hsToken({ iss })],
    ['claims of the wrong shape', () => hsToken({ iss, aud, roles: 'admin' })],
    ['a tenant caller without tenant_id', () => hsToken({ iss, aud, tenant_id: undefined })],
  ];

  it.each(attacks)('rejects a token with %s: 401 ServiceError, token not echoed', async (_name, make) => {
    const token = make();
    const res = await call(app, 'GET', '/me', bearer(token));
    expectError(res, 401, ErrorCode.Unauthenticated);
    expect(res.raw).not.toContain(token);
    // jsonwebtoken's own messages name the expected issuer/audience: they must not reach the caller.
    expect(res.raw).not.toContain(iss);
    expect(res.raw).not.toContain(aud);
    expect(res.raw).not.toMatch(/jwt |invalid signature|Unauthorized/);
  });

  it('says why when the reason is safe to tell', async () => {
    expect((await call(app, 'GET', '/me', bearer(hsToken({ iss, aud, exp: now() - 60 })))).body.message).toBe(
      'Token expired',
    );
    expect(
      (await call(app, 'GET', '/me', bearer(hsToken({ iss, aud, exp: undefined })))).body.message,
    ).toMatch(/exp is required/);
    expect((await call(app, 'GET', '/me', bearer(good({ roles: [] })))).body.message).toMatch(/roles/);
  });

  it('refuses an API key when no ApiKeyVerifier is bound', async () => {
    const res = await call(app, 'GET', '/me', { 'x-api-key': 'ck_t1_admin.secret' });
    expectError(res, 401, ErrorCode.Unauthenticated);
  });

  describe('roles', () => {
    it.each<[string[], string, number]>([
      [['viewer'], '/admin-only', 403],
      [['operator'], '/admin-only', 403],
      [['admin'], '/admin-only', 201],
      [['platform'], '/admin-only', 201],
      [['admin'], '/platform-only', 403],
      [['platform'], '/platform-only', 200],
    ])('%j on %s → %i', async (roles, url, status) => {
      const method = url === '/admin-only' ? 'POST' : 'GET';
      const res = await call(app, method, url, bearer(good({ roles })));
      expect(res.status).toBe(status);
      if (status === 403) {
        expectError(res, 403, ErrorCode.Forbidden);
        expect(res.body.message).toMatch(/^Requires role (admin|platform)$/);
      }
    });

    it('checks the role before the scopes', async () => {
      const res = await call(app, 'POST', '/admin-only', bearer(good({ roles: ['viewer'], scope: '' })));
      expect(res.body.message).toBe('Requires role admin');
    });
  });

  describe('scopes', () => {
    it('names the missing scopes', async () => {
      const res = await call(app, 'POST', '/admin-only', bearer(good({ scope: 'payments:read' })));
      expectError(res, 403, ErrorCode.Forbidden);
      expect(res.body.message).toBe('Missing scope: accounts:write');
      expect(res.body.details).toEqual({ missing_scopes: ['accounts:write'] });
    });

    it('adds class and method scopes up', async () => {
      const only = await call(app, 'GET', '/scoped', bearer(good({ scope: 'payments:read' })));
      expectError(only, 403, ErrorCode.Forbidden);
      expect(only.body.details).toEqual({ missing_scopes: ['events:read'] });
      const none = await call(app, 'GET', '/scoped', bearer(good({ scope: '' })));
      expect(none.body.details).toEqual({ missing_scopes: ['events:read', 'payments:read'] });
      expect(
        (await call(app, 'GET', '/scoped', bearer(good({ scope: 'payments:read events:read' })))).status,
      ).toBe(200);
    });

    it('does not exempt platform callers from scopes', async () => {
      const res = await call(
        app,
        'POST',
        '/admin-only',
        bearer(good({ roles: ['platform'], tenant_id: undefined, scope: '' })),
      );
      expectError(res, 403, ErrorCode.Forbidden);
    });
  });

  describe('tenant', () => {
    const t1Viewer = (): Record<string, string> => bearer(good({ roles: ['viewer'] }));
    const t1Operator = (): Record<string, string> =>
      bearer(good({ roles: ['operator'], scope: 'payments:write' }));
    const platform = (): Record<string, string> =>
      bearer(good({ roles: ['platform'], tenant_id: undefined, scope: 'payments:write' }));

    it('serves the own tenant in the path', async () => {
      const res = await call(app, 'GET', '/accounts/t1', t1Viewer());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ tenantId: 't1' });
    });

    it('answers 404 Not found (no existence leak) for another tenant in the path', async () => {
      const res = await call(app, 'GET', '/accounts/t2', t1Viewer());
      expectError(res, 404, ErrorCode.NotFound);
      expect(res.body.message).toBe('Not found');
      expect(res.raw).not.toContain('t2');
    });

    it('lets platform act for any tenant', async () => {
      expect((await call(app, 'GET', '/accounts/t2', platform())).status).toBe(200);
      expect((await call(app, 'POST', '/payments', platform(), { tenant_id: 't7' })).status).toBe(201);
      expect((await call(app, 'GET', '/reports?tenant_id=t9', platform())).status).toBe(200);
    });

    it('answers 403 for another tenant in the body or the query', async () => {
      expectError(
        await call(app, 'POST', '/payments', t1Operator(), { tenant_id: 't2', amount: 100 }),
        403,
        ErrorCode.Forbidden,
      );
      expectError(await call(app, 'GET', '/reports?tenant_id=t2', t1Viewer()), 403, ErrorCode.Forbidden);
      expect(
        (await call(app, 'POST', '/payments', t1Operator(), { tenant_id: 't1', amount: 100 })).status,
      ).toBe(201);
      expect((await call(app, 'GET', '/reports?tenant_id=t1', t1Viewer())).status).toBe(200);
    });

    it('refuses a tenant named twice or as a non-string before any handler sees it', async () => {
      expectError(
        await call(app, 'GET', '/reports?tenant_id=t1&tenant_id=t2', t1Viewer()),
        400,
        ErrorCode.ValidationFailed,
      );
      expectError(
        await call(app, 'POST', '/payments', t1Operator(), { tenant_id: ['t1', 't2'] }),
        400,
        ErrorCode.ValidationFailed,
      );
      expectError(
        await call(app, 'POST', '/payments', t1Operator(), { tenant_id: 1 }),
        400,
        ErrorCode.ValidationFailed,
      );
      const mismatch = await call(app, 'POST', '/accounts/t1/notes', platform(), { tenant_id: 't2' });
      expectError(mismatch, 400, ErrorCode.ValidationFailed);
    });

    it('ignores an inherited tenant_id (prototype pollution attempt)', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/payments',
        headers: { ...t1Operator(), 'content-type': 'application/json' },
        payload: '{"__proto__": {"tenant_id": "t2"}, "amount": 1}',
      });
      expect([201, 400]).toContain(res.statusCode);
    });

    it('passes routes that name no tenant', async () => {
      expect((await call(app, 'GET', '/reports', t1Viewer())).status).toBe(200);
    });
  });
});

import { Body, Controller, Get, Global, Injectable, Module, Param, Post, Query, Type } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { ServiceExceptionFilter, ErrorCode } from '@app/common';
import { authConfig } from '@app/config';
import { createHmac, generateKeyPairSync, KeyObject, sign as rsaSign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';
import { ApiKeyVerifier } from './api-key-verifier';
import { AuthModule } from './auth.module';
import { Caller } from './caller';
import { ApiAuth, CurrentCaller, Public, Roles, Scopes } from './decorators';
import { signAccessToken } from './token-signer';

type AuthCfg = ConfigType<typeof authConfig>;

const SECRET = 'test-secret-that-is-at-least-32-characters-long';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

@Controller()
class DummyController {
  @Public()
  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }

  @Get('me')
  me(@CurrentCaller() caller: Caller): Caller {
    return caller;
  }

  @ApiAuth('admin', 'accounts:write')
  @Post('admin-only')
  adminOnly(): { ok: true } {
    return { ok: true };
  }

  @Roles('platform')
  @Get('platform-only')
  platformOnly(): { ok: true } {
    return { ok: true };
  }

  @Roles('viewer')
  @Get('accounts/:tenantId')
  account(@Param('tenantId') tenantId: string): { tenantId: string } {
    return { tenantId };
  }

  @Roles('operator')
  @Scopes('payments:write')
  @Post('payments')
  pay(@Body() body: Record<string, unknown>): Record<string, unknown> {
    return body;
  }

  @Post('accounts/:tenantId/notes')
  note(@Param('tenantId') tenantId: string): { tenantId: string } {
    return { tenantId };
  }

  @Get('reports')
  reports(@Query('tenant_id') tenantId?: string): { tenantId: string | null } {
    return { tenantId: tenantId ?? null };
  }
}

@Scopes('events:read')
@Controller('scoped')
class ScopedController {
  @Scopes('payments:read')
  @Get()
  both(): { ok: true } {
    return { ok: true };
  }
}

@Public()
@Controller('probe')
class ProbeController {
  @Get()
  live(): { ok: true } {
    return { ok: true };
  }
}

/** A real, in-memory implementation of the extension point (the service binds ApiKeysService, with hashed, stored keys). */
@Injectable()
class StaticApiKeyVerifier extends ApiKeyVerifier {
  private readonly keys: Record<string, Caller> = {
    'ck_t1_admin.secret': {
      sub: 'key-1',
      tenantId: 't1',
      roles: ['admin'],
      scopes: ['payments:write'],
      method: 'api_key',
      keyId: 'ck_t1_admin',
    },
    'ck_unbound.secret': {
      sub: 'key-2',
      tenantId: null,
      roles: ['admin'],
      scopes: [],
      method: 'api_key',
      keyId: 'ck_unbound',
    },
  };
  readonly seenIps: string[] = [];

  verify(rawKey: string, ip?: string): Promise<Caller | null> {
    if (ip) this.seenIps.push(ip);
    return Promise.resolve(this.keys[rawKey] ?? null);
  }
}

/** Not global and not imported by AuthModule: the guard must still find the binding. */
@Module({ providers: [{ provide: ApiKeyVerifier, useClass: StaticApiKeyVerifier }] })
class ApiKeysTestModule {}

function configModule(cfg: Partial<AuthCfg>): Type {
  const value: AuthCfg = {
    secret: undefined,
    generatedSecret: false,
    publicKey: undefined,
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
    maxTtlSeconds: 86_400,
    clockSkewSeconds: 30,
    revocationSyncMs: 250,
    ...cfg,
  };
  @Global()
  @Module({ providers: [{ provide: authConfig.KEY, useValue: value }], exports: [authConfig.KEY] })
  class TestAuthConfigModule {}
  return TestAuthConfigModule;
}

async function buildApp(cfg: Partial<AuthCfg>, extra: Type[] = []): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [configModule(cfg), AuthModule, ...extra],
    controllers: [DummyController, ScopedController, ProbeController],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalFilters(new ServiceExceptionFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** Hand-made tokens, so the attacks are not sanitised by a signing library. */
function craft(header: object, payload: object, signer: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input)}`;
}
const hmac = (key: string | Buffer) => (input: string) =>
  createHmac('sha256', key).update(input).digest('base64url');
const rs256 = (key: KeyObject) => (input: string) =>
  rsaSign('sha256', Buffer.from(input), key).toString('base64url');

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'user-1',
  tenant_id: 't1',
  roles: ['admin'],
  scope: 'accounts:write payments:read',
  iat: now(),
  exp: now() + 600,
  ...over,
});

const hsToken = (over: Record<string, unknown> = {}): string =>
  craft({ alg: 'HS256', typ: 'JWT' }, claims(over), hmac(SECRET));

async function call(
  app: NestFastifyApplication,
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string> = {},
  payload?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const res = await app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), raw: res.body };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function expectError(
  res: { status: number; body: Record<string, unknown> },
  status: number,
  code: string,
): void {
  expect({ status: res.status, code: res.body.code, http_status: res.body.http_status }).toEqual({
    status,
    code,
    http_status: status,
  });
  expect(typeof res.body.message).toBe('string');
}

describe('AuthModule with HS256 (JWT_SECRET), iss and aud configured', () => {
  let app: NestFastifyApplication;
  const iss = 'https://idp.test';
  const aud = 'connect-service';
  const good = (over: Record<string, unknown> = {}): string => hsToken({ iss, aud, ...over });

  beforeAll(async () => {
    app = await buildApp({ secret: SECRET, issuer: iss, audience: aud });
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

describe('AuthModule with RS256 (JWT_PUBLIC_KEY)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    // A secret set alongside must not reopen HS256.
    app = await buildApp({ publicKey: publicPem, secret: SECRET });
  });
  afterAll(async () => app.close());

  it('accepts an RS256 token signed with the matching private key', async () => {
    const token = craft({ alg: 'RS256', typ: 'JWT' }, claims(), rs256(rsa.privateKey));
    expect((await call(app, 'GET', '/me', bearer(token))).status).toBe(200);
    const viaLib = sign(claims(), rsa.privateKey, { algorithm: 'RS256' });
    expect((await call(app, 'GET', '/me', bearer(viaLib))).status).toBe(200);
  });

  it.each<[string, () => string]>([
    [
      'HS256 keyed with the public key (key confusion)',
      () => craft({ alg: 'HS256', typ: 'JWT' }, claims(), hmac(publicPem)),
    ],
    ['HS256 keyed with JWT_SECRET', () => hsToken()],
    ['alg none', () => craft({ alg: 'none', typ: 'JWT' }, claims(), () => '')],
    ['another RSA key', () => craft({ alg: 'RS256', typ: 'JWT' }, claims(), rs256(otherRsa.privateKey))],
    ['RS512 with the right key', () => sign(claims(), rsa.privateKey, { algorithm: 'RS512' })],
    ['no exp', () => craft({ alg: 'RS256', typ: 'JWT' }, claims({ exp: undefined }), rs256(rsa.privateKey))],
    [
      'an expired exp',
      () => craft({ alg: 'RS256', typ: 'JWT' }, claims({ exp: now() - 60 }), rs256(rsa.privateKey)),
    ],
  ])('rejects %s with 401 CONNECT_020', async (_name, make) => {
    expectError(await call(app, 'GET', '/me', bearer(make())), 401, ErrorCode.Unauthenticated);
  });
});

describe('AuthModule with RS256 via JWKS (JWT_JWKS_URL)', () => {
  let app: NestFastifyApplication;
  let jwks: Server;
  let jwksHits = 0;
  const kid = 'key-2024';

  beforeAll(async () => {
    const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      jwksHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    app = await buildApp({
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      issuer: 'https://idp.test',
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const rsToken = (
    header: Record<string, unknown>,
    key: KeyObject,
    over: Record<string, unknown> = {},
  ): string =>
    craft({ alg: 'RS256', typ: 'JWT', ...header }, claims({ iss: 'https://idp.test', ...over }), rs256(key));

  it('accepts a token signed by the key the JWKS publishes, and caches the key set', async () => {
    expect((await call(app, 'GET', '/me', bearer(rsToken({ kid }, rsa.privateKey)))).status).toBe(200);
    const hits = jwksHits;
    expect((await call(app, 'GET', '/me', bearer(rsToken({ kid }, rsa.privateKey)))).status).toBe(200);
    expect(jwksHits).toBe(hits);
  });

  it.each<[string, () => string]>([
    ['an unknown kid', () => rsToken({ kid: 'nope' }, rsa.privateKey)],
    // jwks-rsa falls back to the only key of a one-key set when `kid` is absent; the signature still decides.
    ['no kid and another key', () => rsToken({}, otherRsa.privateKey)],
    ['the right kid but another key', () => rsToken({ kid }, otherRsa.privateKey)],
    [
      'HS256 keyed with the public key',
      () => craft({ alg: 'HS256', typ: 'JWT', kid }, claims({ iss: 'https://idp.test' }), hmac(publicPem)),
    ],
    [
      'alg none',
      () => craft({ alg: 'none', typ: 'JWT', kid }, claims({ iss: 'https://idp.test' }), () => ''),
    ],
    ['a wrong iss', () => rsToken({ kid }, rsa.privateKey, { iss: 'https://evil.test' })],
    ['no exp', () => rsToken({ kid }, rsa.privateKey, { exp: undefined })],
  ])('rejects %s with 401 CONNECT_020', async (_name, make) => {
    expectError(await call(app, 'GET', '/me', bearer(make())), 401, ErrorCode.Unauthenticated);
  });
});

describe('AuthModule with an ApiKeyVerifier bound', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await buildApp({ secret: SECRET }, [ApiKeysTestModule]);
  });
  afterAll(async () => app.close());

  it('authenticates an X-API-Key and runs the same guards', async () => {
    const me = await call(app, 'GET', '/me', { 'x-api-key': 'ck_t1_admin.secret' });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ method: 'api_key', keyId: 'ck_t1_admin', tenantId: 't1' });
    expect(app.get(ApiKeyVerifier, { strict: false }) as StaticApiKeyVerifier).toHaveProperty('seenIps', [
      '127.0.0.1',
    ]);

    expectError(
      await call(app, 'GET', '/accounts/t2', { 'x-api-key': 'ck_t1_admin.secret' }),
      404,
      ErrorCode.NotFound,
    );
    expectError(
      await call(app, 'GET', '/scoped', { 'x-api-key': 'ck_t1_admin.secret' }),
      403,
      ErrorCode.Forbidden,
    );
    expect(
      (await call(app, 'POST', '/payments', { 'x-api-key': 'ck_t1_admin.secret' }, { tenant_id: 't1' }))
        .status,
    ).toBe(201);
  });

  it('answers 401 for an unknown or empty key, and for a key sent with a bearer token', async () => {
    expectError(
      await call(app, 'GET', '/me', { 'x-api-key': 'ck_t1_admin.wrong' }),
      401,
      ErrorCode.Unauthenticated,
    );
    expectError(await call(app, 'GET', '/me', { 'x-api-key': '' }), 401, ErrorCode.Unauthenticated);
    const both = await call(app, 'GET', '/me', { 'x-api-key': 'ck_t1_admin.secret', ...bearer(hsToken()) });
    expectError(both, 401, ErrorCode.Unauthenticated);
  });

  it('forbids a non-platform caller without a tenant on tenant routes', async () => {
    expectError(
      await call(app, 'GET', '/accounts/t1', { 'x-api-key': 'ck_unbound.secret' }),
      403,
      ErrorCode.Forbidden,
    );
    expect((await call(app, 'GET', '/reports', { 'x-api-key': 'ck_unbound.secret' })).status).toBe(200);
  });

  it('documents @ApiAuth in the OpenAPI document', () => {
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .addBearerAuth()
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key')
        .build(),
    );
    const op = doc.paths['/admin-only']?.post as unknown as Record<string, unknown> & {
      responses: Record<string, unknown>;
      security: Record<string, string[]>[];
    };
    expect(op.security).toEqual(expect.arrayContaining([{ bearer: [] }, { api_key: [] }]));
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    expect(op.description).toBe('Requires role `admin` and scope `accounts:write`.');
    expect(op['x-required-role']).toBe('admin');
    expect(op['x-required-scopes']).toEqual(['accounts:write']);
  });
});

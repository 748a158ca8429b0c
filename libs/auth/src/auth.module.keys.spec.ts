import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ErrorCode } from '@app/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createServer, Server } from 'node:http';
import { KeyObject } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';
import { ApiKeyVerifier } from './api-key-verifier';
import {
  SECRET,
  rsa,
  otherRsa,
  publicPem,
  StaticApiKeyVerifier,
  ApiKeysTestModule,
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

describe('AuthModule with RS256 (JWT_PUBLIC_KEY)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    // A secret set alongside must not reopen HS256.
    app = await buildApp(Test, { publicKey: publicPem, secret: SECRET });
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
    app = await buildApp(Test, {
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
    app = await buildApp(Test, { secret: SECRET }, [ApiKeysTestModule]);
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

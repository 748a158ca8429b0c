/** Shared by the AuthModule specs: a dummy API behind the guards, keys, and hand-made tokens. */
import { Body, Controller, Get, Global, Injectable, Module, Param, Post, Query, Type } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Test } from '@nestjs/testing';
import { ServiceExceptionFilter } from '@app/common';
import { authConfig } from '@app/config';
import { createHmac, generateKeyPairSync, KeyObject, sign as rsaSign } from 'node:crypto';
import { ApiKeyVerifier } from './api-key-verifier';
import { AuthModule } from './auth.module';
import { Caller } from './caller';
import { ApiAuth, CurrentCaller, Public, Roles, Scopes } from './decorators';

export type AuthCfg = ConfigType<typeof authConfig>;

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

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
export class StaticApiKeyVerifier extends ApiKeyVerifier {
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
export class ApiKeysTestModule {}

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

/** `testing` is @nestjs/testing's Test, passed in because only specs may import that devDependency. */
export async function buildApp(
  testing: typeof Test,
  cfg: Partial<AuthCfg>,
  extra: Type[] = [],
): Promise<NestFastifyApplication> {
  const moduleRef = await testing
    .createTestingModule({
      imports: [configModule(cfg), AuthModule, ...extra],
      controllers: [DummyController, ScopedController, ProbeController],
    })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalFilters(new ServiceExceptionFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

export const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
export const now = (): number => Math.floor(Date.now() / 1000);

/** Hand-made tokens, so the attacks are not sanitised by a signing library. */
export function craft(header: object, payload: object, signer: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input)}`;
}
export const hmac = (key: string | Buffer) => (input: string) =>
  createHmac('sha256', key).update(input).digest('base64url');
export const rs256 = (key: KeyObject) => (input: string) =>
  rsaSign('sha256', Buffer.from(input), key).toString('base64url');

export const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'user-1',
  tenant_id: 't1',
  roles: ['admin'],
  scope: 'accounts:write payments:read',
  iat: now(),
  exp: now() + 600,
  ...over,
});

export const hsToken = (over: Record<string, unknown> = {}): string =>
  craft({ alg: 'HS256', typ: 'JWT' }, claims(over), hmac(SECRET));

export async function call(
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

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export function expectError(
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

import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { ErrorCode } from '@app/common';
import { AccountsService } from '../../apps/connect-service/src/accounts/accounts.service';
import { PayoutsService } from '../../apps/connect-service/src/payouts/payouts.service';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TEST_JWT_SECRET, TestApp } from '../support/app';
import { connectTenant, platformToken } from '../support/factory';

jest.setTimeout(120_000);

/** A viewer token of the tenant with a jti, so one test can revoke it alone. */
const viewerToken = (tenant: string, scope = 'accounts:read', jti = randomUUID()): string =>
  sign({ sub: `viewer-${jti}`, tenant_id: tenant, roles: ['viewer'], scope, jti }, TEST_JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 600,
  });

/**
 * The warm-cache hits of GET /connect/accounts/:tenantId and its /balance are served outside Nest (http/cached-reads.ts):
 * the same bytes as Nest's answer, and every refusal still Nest's own.
 */
describe('cached reads served outside Nest', () => {
  let t: TestApp;
  let viewNest: jest.SpyInstance;
  let balanceNest: jest.SpyInstance;
  let tenant: string;
  let other: string;

  beforeAll(async () => {
    t = await bootTestApp();
    viewNest = jest.spyOn(t.app.get(AccountsService), 'getViewJson');
    balanceNest = jest.spyOn(t.app.get(PayoutsService), 'balanceJson');
    tenant = (await connectTenant(t, { prefix: 'cread' })).tenant;
    other = (await connectTenant(t, { prefix: 'cread-other' })).tenant;
  });
  afterAll(async () => t?.close());

  const get = (path: string, token: string, headers: Record<string, string> = {}) =>
    api(t)('GET', path, { token, headers });

  it.each([
    ['account', '', () => viewNest],
    ['balance', '/balance', () => balanceNest],
  ])(
    'serves the %s warm hit directly, byte for byte, with the hooks’ headers',
    async (_what, suffix, spy) => {
      const path = `/connect/accounts/${tenant}${suffix}`;
      const token = viewerToken(tenant);
      const cold = await get(path, token);
      expect(cold.status).toBe(200);
      const nestCalls = spy().mock.calls.length;
      const warm = await get(path, token, { 'x-request-id': 'cached-read-1' });
      expect(spy().mock.calls.length).toBe(nestCalls);
      expect(warm.status).toBe(200);
      expect(warm.raw).toBe(cold.raw);
      expect(warm.headers['content-type']).toBe(cold.headers['content-type']);
      expect(warm.headers['x-request-id']).toBe('cached-read-1');
      expect(warm.headers['x-content-type-options']).toBe('nosniff');
      // A platform caller passes the same guards; its first request verifies the token through Nest.
      expect((await get(path, platformToken(t))).raw).toBe(cold.raw);
    },
  );

  it('leaves every refusal to Nest: foreign tenant, missing scope, card data, revoked token', async () => {
    const path = `/connect/accounts/${tenant}`;
    const token = viewerToken(tenant);
    expect((await get(path, token)).status).toBe(200);
    expect((await get(`/connect/accounts/${other}`, platformToken(t))).status).toBe(200);

    const foreign = await get(`/connect/accounts/${other}`, token);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: ErrorCode.NotFound });
    const foreignBalance = await get(`/connect/accounts/${other}/balance`, token);
    expect(foreignBalance.status).toBe(404);

    const noScope = viewerToken(tenant, 'payments:read');
    expect((await get(`/connect/accounts/${tenant}/payouts`, noScope)).status).toBe(200);
    const scoped = await get(path, noScope);
    expect(scoped.status).toBe(403);
    expect(scoped.body).toMatchObject({
      code: ErrorCode.Forbidden,
      details: { missing_scopes: ['accounts:read'] },
    });

    const card = await get(`${path}?note=4242424242424242`, token);
    expect(card.status).toBe(400);
    expect(card.body).toMatchObject({ code: ErrorCode.ValidationFailed });

    const jti = randomUUID();
    const victim = viewerToken(tenant, 'accounts:read', jti);
    expect((await get(path, victim)).status).toBe(200);
    const revoked = await api(t)('POST', '/connect/auth/revocations', {
      token: platformToken(t),
      body: { jti },
    });
    expect(revoked.status).toBeLessThan(300);
    await eventually(
      'the revoked token to be refused',
      async () => (await get(path, victim)).status === 401,
      {
        timeoutMs: 5_000,
        intervalMs: 50,
      },
    );
    expect((await get(path, victim)).body).toMatchObject({
      code: ErrorCode.Unauthenticated,
      message: 'Token revoked',
    });
  });
});

describe('cached reads served outside Nest, with rate limits on', () => {
  let t: TestApp;
  let viewNest: jest.SpyInstance;
  beforeAll(async () => {
    t = await bootTestApp({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_WINDOW_SECONDS: '30',
      RATE_LIMIT_PER_CALLER: '3',
      RATE_LIMIT_PER_TENANT: '100',
    });
    viewNest = jest.spyOn(t.app.get(AccountsService), 'getViewJson');
  });
  afterAll(async () => t?.close());

  it('spends each budget once per request, and refuses over budget as Nest does', async () => {
    const { tenant } = await connectTenant(t, { prefix: 'cread-rl' });
    const path = `/connect/accounts/${tenant}`;
    const token = viewerToken(tenant);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await api(t)('GET', path, { token }));
    expect(answers.map((a) => [a.status, a.headers['ratelimit-remaining']])).toEqual([
      [200, '2'],
      [200, '1'],
      [200, '0'],
    ]);
    // The first read filled the cache through Nest; the others were served directly.
    expect(viewNest).toHaveBeenCalledTimes(1);
    const limited = await api(t)('GET', path, { token });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: ErrorCode.RateLimited, message: 'Too many requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(viewNest).toHaveBeenCalledTimes(1);
  });
});

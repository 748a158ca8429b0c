import { describeWithRedis } from '../utils/requires-redis';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { REDIS_CLIENT } from '../../apps/connect-service/src/redis/redis.module';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { ErrorCode } from '@app/common';
import Stripe from 'stripe';
import { eventBody, PLATFORM_SECRET } from '../webhooks/webhook-support';
import { api, ApiResponse } from '../support/http';

type Headers = Record<string, string>;

const get = (t: TestApp, url: string, headers: Headers = {}): Promise<ApiResponse> =>
  api(t)('GET', url, { headers });

const LIMITS = {
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_WINDOW_SECONDS: '30',
  RATE_LIMIT_PER_CALLER: '3',
  RATE_LIMIT_PER_TENANT: '5',
  RATE_LIMIT_PER_IP_PUBLIC: '4',
};

describe('rate limits, in-process (no REDIS_URL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootTestApp({ ...LIMITS, REDIS_URL: undefined, STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET });
  });
  afterAll(async () => t?.close());

  const bearer = (sub: string, tenant: string): Headers => ({
    authorization: `Bearer ${t.token({ sub, roles: ['admin'], tenant_id: tenant })}`,
  });

  it('counts per caller: 429 CONNECT_050 with Retry-After and RateLimit-* headers; others unaffected', async () => {
    const tenant = uniqueTenant();
    const h = bearer(`u-${randomUUID()}`, tenant);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(t, '/connect/audit-log?limit=1', h);
      seen.push(res.status);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(res.headers['ratelimit-remaining']).toBe(String(2 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    expect(seen).toEqual([200, 200, 200]);
    const limited = await get(t, '/connect/audit-log?limit=1', h);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      code: ErrorCode.RateLimited,
      http_status: 429,
      message: 'Too many requests',
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    // The budget spans routes.
    expect((await get(t, '/connect/api-keys', h)).status).toBe(403); // role first (guards run before the limit)
    expect((await get(t, '/connect/events', h)).status).toBe(429);
    // Another caller of another tenant is not affected.
    expect(
      (await get(t, '/connect/audit-log?limit=1', bearer(`u-${randomUUID()}`, uniqueTenant()))).status,
    ).toBe(200);
  });

  it('counts per tenant across its callers', async () => {
    const tenant = uniqueTenant();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await get(t, '/connect/audit-log?limit=1', bearer(`u-${i}-${randomUUID()}`, tenant))).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('gives public routes a per-IP budget, and never limits probes and metrics', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(t)('POST', '/connect/webhooks', {
        body: { id: 'evt_1' },
        remoteAddress: '198.51.100.7',
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
    const other = await api(t)('POST', '/connect/webhooks', { body: {}, remoteAddress: '198.51.100.8' });
    expect(other.status).toBe(400);
    for (let i = 0; i < 10; i++) {
      expect((await api(t)('GET', '/health/live', { remoteAddress: '198.51.100.7' })).status).toBe(200);
      expect((await api(t)('GET', '/metrics', { remoteAddress: '198.51.100.7' })).status).toBe(200);
    }
  });

  it('never limits a delivery whose signature verifies, even from an IP whose forged requests are cut off', async () => {
    const ip = '198.51.100.9';
    const signed = () => {
      const payload = JSON.stringify(
        eventBody({ type: 'customer.created', object: { id: `cus_${randomUUID()}`, object: 'customer' } }),
      );
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: PLATFORM_SECRET });
      return t.app.inject({
        method: 'POST',
        url: '/connect/webhooks',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload,
        remoteAddress: ip,
      });
    };
    // Twice the per-IP budget of signed deliveries: every one accepted, none spends the budget.
    for (let i = 0; i < 8; i++) expect((await signed()).statusCode).toBe(200);
    const forged: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/connect/webhooks',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        payload: JSON.stringify({ id: 'evt_forged' }),
        remoteAddress: ip,
      });
      forged.push(res.statusCode);
    }
    // The budget (4) counts only the forged ones: the flood is cut off at the fifth.
    expect(forged).toEqual([400, 400, 400, 400, 429, 429]);
    const stillSigned = await signed();
    expect(stillSigned.statusCode).toBe(200);
    expect(stillSigned.headers['ratelimit-limit']).toBeUndefined();
  });

  it('answers 401 (not 429) without credentials: unauthenticated requests cannot spend a caller’s budget', async () => {
    for (let i = 0; i < 6; i++) expect((await get(t, '/connect/audit-log')).status).toBe(401);
  });
});

describeWithRedis('rate limits shared by two instances on one Redis', (redisUrl) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await bootTestApp({ ...LIMITS, REDIS_URL: redisUrl });
    b = await bootTestApp({ ...LIMITS, REDIS_URL: redisUrl });
    for (const t of [a, b]) {
      const client = t.app.get<Redis>(REDIS_CLIENT);
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('spends one budget: 3 requests spread over both, the 4th is refused by either', async () => {
    const sub = `u-${randomUUID()}`;
    const tenant = uniqueTenant();
    const h = { authorization: `Bearer ${a.token({ sub, roles: ['admin'], tenant_id: tenant })}` };
    expect((await get(a, '/connect/audit-log?limit=1', h)).status).toBe(200);
    expect((await get(b, '/connect/audit-log?limit=1', h)).status).toBe(200);
    const third = await get(a, '/connect/audit-log?limit=1', h);
    expect(third.status).toBe(200);
    expect(third.headers['ratelimit-remaining']).toBe('0');
    expect((await get(b, '/connect/audit-log?limit=1', h)).status).toBe(429);
    expect((await get(a, '/connect/audit-log?limit=1', h)).status).toBe(429);
  });
});

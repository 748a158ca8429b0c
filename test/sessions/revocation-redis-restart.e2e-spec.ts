import { sign } from 'jsonwebtoken';
import { PrivateRedis } from '../faults/support/harness';
import { api } from '../support/http';
import { ALL_SCOPES, bootTestApp, TEST_JWT_SECRET, TestApp, uniqueTenant } from '../support/app';

/**
 * Redis is an accelerator: revocations live in PostgreSQL, so killing Redis (a private redis-server of this suite,
 * never the machine's shared one), starting it empty again, or booting a new replica, never un-revokes a token.
 */
describe('revocations survive a Redis restart', () => {
  let redis: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await bootTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.kill();
  });

  it('keeps refusing the revoked token while Redis is down, after it restarts empty, and on a new replica', async () => {
    const tenant = uniqueTenant();
    const token = sign(
      { sub: 'u', tenant_id: tenant, roles: ['viewer'], scope: ALL_SCOPES, jti: `r-${tenant}` },
      TEST_JWT_SECRET,
      { expiresIn: 600 },
    );
    const status = async (app: TestApp) =>
      (await api(app)('GET', '/connect/payments?limit=1', { headers: { authorization: `Bearer ${token}` } }))
        .status;
    expect(await status(t)).toBe(200);
    const platform = t.token({ roles: ['platform'] });
    expect(
      (await api(t)('POST', '/connect/auth/revocations', { token: platform, body: { jti: `r-${tenant}` } }))
        .status,
    ).toBe(201);
    expect(await status(t)).toBe(401);

    await redis.kill();
    expect(await status(t)).toBe(401);
    await redis.start();
    expect(await status(t)).toBe(401);

    const replica = await bootTestApp({ REDIS_URL: redis.url });
    try {
      expect(await status(replica)).toBe(401);
    } finally {
      await replica.close();
    }
  });
});

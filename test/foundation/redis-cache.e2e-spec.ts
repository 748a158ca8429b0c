import Redis from 'ioredis';
import { AccountCacheService } from '../../apps/connect-service/src/accounts/account-cache.service';
import type { ConnectAccountDto } from '../../apps/connect-service/src/accounts/dto/connect-account.dto';
import { REDIS_CLIENT } from '../../apps/connect-service/src/redis/redis.module';
import { describeWithRedis } from '../utils/requires-redis';
import { bootTestApp, TestApp } from '../support/app';
import { api } from '../support/http';

describeWithRedis(
  'account cache on Redis (REDIS_URL): one key per tenant, the answer JSON as stored',
  (redisUrl) => {
    let t: TestApp;
    let probe: Redis;

    beforeAll(async () => {
      t = await bootTestApp({ REDIS_URL: redisUrl, REDIS_TTL: '30' });
      probe = new Redis(redisUrl);
    });
    afterAll(async () => {
      probe?.disconnect();
      await t?.close();
    });

    it('stores entries in Redis with the configured TTL, so every replica sees them', async () => {
      const cache = t.app.get(AccountCacheService);
      const tenant = `probe_${Date.now()}_${Math.random().toString(36).slice(2)}`;
      const dto = { tenant_id: tenant, status: 'active' } as unknown as ConnectAccountDto;
      const json = await cache.set(tenant, dto);
      expect(JSON.parse(json)).toEqual(dto);
      expect(await cache.getJson(tenant)).toBe(json);
      expect(await probe.get(AccountCacheService.key(tenant))).toBe(json);
      const ttl = await probe.pttl(AccountCacheService.key(tenant));
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      await cache.invalidate(tenant);
      expect(await probe.exists(AccountCacheService.key(tenant))).toBe(0);
      expect(await cache.getJson(tenant)).toBeUndefined();
    });

    it('a shortened TTL expires the entry when its state stops being fresh; zero stores nothing', async () => {
      const cache = t.app.get(AccountCacheService);
      const tenant = `probe_ttl_${Date.now()}`;
      await cache.set(tenant, { tenant_id: tenant } as unknown as ConnectAccountDto, 5_000);
      const ttl = await probe.pttl(AccountCacheService.key(tenant));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
      const none = `probe_none_${Date.now()}`;
      await cache.set(none, { tenant_id: none } as unknown as ConnectAccountDto, 0);
      expect(await probe.exists(AccountCacheService.key(none))).toBe(0);
    });

    it('reports Redis in the readiness probe', async () => {
      expect(t.app.get<Redis | null>(REDIS_CLIENT)).not.toBeNull();
      const ready = await api(t)('GET', '/health/ready');
      expect(ready.body.details.redis).toEqual({ status: 'up' });
    });
  },
);

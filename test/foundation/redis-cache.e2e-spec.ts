import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import Redis from 'ioredis';
import { REDIS_CLIENT } from '../../apps/connect-service/src/redis/redis.module';
import { describeWithRedis } from '../utils/requires-redis';
import { bootTestApp, TestApp } from '../utils/test-app';
import { api } from '../utils/api';

describeWithRedis(
  'cache on Redis (REDIS_URL): cache-manager 7 + cache-manager-ioredis-yet through KeyvAdapter',
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
      const cache = t.app.get<Cache>(CACHE_MANAGER);
      const key = `probe:${Date.now()}:${Math.random()}`;
      await cache.set(key, { hello: 'world' });
      expect(await cache.get(key)).toEqual({ hello: 'world' });
      const stored = await probe.keys(`*${key}*`);
      expect(stored).toHaveLength(1);
      const ttl = await probe.pttl(stored[0]);
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      await cache.del(key);
      expect(await probe.exists(stored[0])).toBe(0);
    });

    it('reports Redis in the readiness probe', async () => {
      expect(t.app.get<Redis | null>(REDIS_CLIENT)).not.toBeNull();
      const ready = await api(t)('GET', '/health/ready');
      expect(ready.body.details.redis).toEqual({ status: 'up' });
    });
  },
);

import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import Redis from 'ioredis';
import { redisConfig } from '@app/config';

/** The shared ioredis client, or null when REDIS_URL is not set (then cache and rate limits are in-process). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

const logger = new Logger('Redis');

@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [redisConfig.KEY],
      useFactory: (cfg: ConfigType<typeof redisConfig>): Redis | null => {
        if (!cfg.url) {
          logger.warn(
            'REDIS_URL is not set: cache and rate limits are IN-PROCESS (not shared between replicas).',
          );
          return null;
        }
        logger.log('Cache and rate limits: Redis from REDIS_URL');
        const client = new Redis(cfg.url, {
          // Redis only speeds things up (PostgreSQL holds the truth): fail fast instead of queueing commands forever when it is down.
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          lazyConnect: false,
        });
        client.on('error', (err: Error) => logger.warn(`Redis error: ${err.message}`));
        return client;
      },
    },
  ],
  exports: [REDIS_CLIENT],
})
class RedisClientModule {}

/**
 * The shared Redis client (REDIS_CLIENT, null without REDIS_URL): the account cache and the rate limits import
 * RedisModule and fall back to in-process state without it.
 */
@Module({
  imports: [RedisClientModule],
  exports: [RedisClientModule],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.client && this.client.status !== 'end')
      await this.client.quit().catch(() => this.client?.disconnect());
  }
}

import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { rateLimitConfig } from '@app/config';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { JobQueueModule } from '../queue/job-queue.module';
import { REDIS_CLIENT, RedisModule } from '../redis/redis.module';
import { CardNumberGuard } from './card-number.guard';
import { RATE_LIMITERS, RateLimitGuard } from './rate-limit.guard';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';
import { SecretsReencryptService } from './secrets-reencrypt.service';
import { UnverifiedRequestBudget } from './unverified-request-budget';

/**
 * Rate limits, card-number refusal, retention and secret re-encryption. Import it AFTER AuthModule: global guards run in the order
 * they are provided, and the rate limit needs the authenticated caller.
 */
@Module({
  imports: [
    DatabaseModule,
    CryptoModule,
    JobQueueModule,
    ThrottlerModule.forRootAsync({
      imports: [RedisModule],
      inject: [rateLimitConfig.KEY, REDIS_CLIENT],
      useFactory: (cfg: ConfigType<typeof rateLimitConfig>, redis: Redis | null) => {
        const ttl = cfg.windowSeconds * 1000;
        return {
          throttlers: [
            { name: RATE_LIMITERS.caller, ttl, limit: cfg.perCaller },
            { name: RATE_LIMITERS.tenant, ttl, limit: cfg.perTenant },
            { name: RATE_LIMITERS.publicIp, ttl, limit: cfg.perIpPublic },
          ],
          storage: new ResilientThrottlerStorage(redis ? new ThrottlerStorageRedisService(redis) : null),
        };
      },
    }),
  ],
  providers: [
    { provide: APP_GUARD, useClass: RateLimitGuard },
    // After the rate limit: the last global guard.
    { provide: APP_GUARD, useClass: CardNumberGuard },
    RetentionService,
    SecretsReencryptService,
    RetentionRepository,
    UnverifiedRequestBudget,
  ],
  exports: [RetentionService, SecretsReencryptService, UnverifiedRequestBudget],
})
export class SecurityModule {}

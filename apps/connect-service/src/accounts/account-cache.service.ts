import { Inject, Injectable, Logger } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { ConfigType } from '@nestjs/config';
import type { Cache } from 'cache-manager';
import { redisConfig } from '@app/config';
import { afterCommit } from '@app/database';
import type { EntityManager } from 'typeorm';
import type { ConnectAccountDto } from './dto/connect-account.dto';

/**
 * The hot read path's cache: the answer of `GET /connect/accounts/:tenantId`, per tenant, for REDIS_TTL. An entry
 * only exists while the state it holds is fresh, so a hit is served with no database query. Redis is an
 * accelerator (PostgreSQL and Stripe hold the truth): a failing cache is logged and bypassed, never an error.
 */
@Injectable()
export class AccountCacheService {
  private readonly logger = new Logger(AccountCacheService.name);
  private readonly ttlMs: number;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Inject(redisConfig.KEY) redis: ConfigType<typeof redisConfig>,
  ) {
    this.ttlMs = redis.ttlSeconds * 1000;
  }

  get ttlMilliseconds(): number {
    return this.ttlMs;
  }

  static key(tenantId: string): string {
    // v2: `capabilities` became a string[]; entries a replica of the previous shape wrote are never read.
    return `account:v2:${tenantId}`;
  }

  async get(tenantId: string): Promise<ConnectAccountDto | undefined> {
    try {
      return (await this.cache.get<ConnectAccountDto>(AccountCacheService.key(tenantId))) ?? undefined;
    } catch (err) {
      this.logger.warn(`cache read failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** `ttlMs` shortens the entry so it expires when the state it holds stops being fresh. */
  async set(tenantId: string, value: ConnectAccountDto, ttlMs = this.ttlMs): Promise<void> {
    if (ttlMs <= 0) return;
    try {
      await this.cache.set(AccountCacheService.key(tenantId), value, ttlMs);
    } catch (err) {
      this.logger.warn(`cache write failed: ${(err as Error).message}`);
    }
  }

  /** Inside a transaction (`manager`), the entry is dropped once it commits (see afterCommit). */
  async invalidate(tenantId: string, manager?: EntityManager): Promise<void> {
    if (manager) return afterCommit(manager, () => this.invalidate(tenantId));
    try {
      await this.cache.del(AccountCacheService.key(tenantId));
    } catch (err) {
      this.logger.warn(`cache invalidation failed: ${(err as Error).message}`);
    }
  }
}

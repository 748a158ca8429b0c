import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS_CLIENT } from '../redis/redis.module';

/** A balance read kept this long at most, to answer `stale: true` while Stripe is down. */
const KEEP_FOR_STALE_SECONDS = 86_400;

/** Bounds the in-process cache (no REDIS_URL): the oldest entry goes first past it. */
const MAX_LOCAL_ENTRIES = 10_000;

export interface CachedBalance<T> {
  value: T;
  fetched_at: string;
}

/**
 * The last balance read from Stripe per tenant. Redis is an accelerator: a failing cache is logged and bypassed.
 * Freshness is the reader's decision (`fetched_at`), so the same entry serves both the short cache and the
 * stale answer.
 */
@Injectable()
export class BalanceCacheService {
  private readonly logger = new Logger(BalanceCacheService.name);
  private readonly local = new Map<string, string>();

  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {}

  private static key(tenantId: string): string {
    return `connect:balance:v1:${tenantId}`;
  }

  async get<T>(tenantId: string): Promise<CachedBalance<T> | undefined> {
    const key = BalanceCacheService.key(tenantId);
    try {
      const json = this.redis ? await this.redis.get(key) : this.local.get(key);
      return json ? (JSON.parse(json) as CachedBalance<T>) : undefined;
    } catch (err) {
      this.logger.warn(`balance cache read failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  async set<T>(tenantId: string, value: CachedBalance<T>): Promise<void> {
    const key = BalanceCacheService.key(tenantId);
    const json = JSON.stringify(value);
    if (!this.redis) {
      if (this.local.size >= MAX_LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value as string);
      this.local.set(key, json);
      return;
    }
    try {
      await this.redis.set(key, json, 'EX', KEEP_FOR_STALE_SECONDS);
    } catch (err) {
      this.logger.warn(`balance cache write failed: ${(err as Error).message}`);
    }
  }
}

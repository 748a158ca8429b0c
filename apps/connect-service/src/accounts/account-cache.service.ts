import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type Redis from 'ioredis';
import { redisConfig } from '@app/config';
import { afterCommit } from '@app/database';
import type { EntityManager } from 'typeorm';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { ConnectAccountDto } from './dto/connect-account.dto';

/** Bounds the in-process cache (no REDIS_URL): the oldest entries go first past it. */
const MAX_LOCAL_ENTRIES = 50_000;

/**
 * The hot read path's cache: the answer of `GET /connect/accounts/:tenantId`, per tenant, for REDIS_TTL, stored as
 * the JSON the endpoint answers so a hit is one Redis GET sent as it is (no database query, no parse and
 * re-serialisation). An entry only exists while the state it holds is fresh. Redis is an accelerator (PostgreSQL and
 * Stripe hold the truth): a failing cache is logged and bypassed, never an error. Without REDIS_URL the entries live
 * in this process.
 */
@Injectable()
export class AccountCacheService {
  private readonly logger = new Logger(AccountCacheService.name);
  private readonly ttlMs: number;
  private readonly local = new Map<string, { json: string; expiresAtMs: number }>();

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
    @Inject(redisConfig.KEY) cfg: ConfigType<typeof redisConfig>,
  ) {
    this.ttlMs = cfg.ttlSeconds * 1000;
  }

  get ttlMilliseconds(): number {
    return this.ttlMs;
  }

  static key(tenantId: string): string {
    // v3: the entry is the answer's JSON itself; entries of earlier shapes are never read.
    return `connect:account:v3:${tenantId}`;
  }

  /** The cached answer's JSON, or undefined on a miss (or when the cache fails). */
  async getJson(tenantId: string): Promise<string | undefined> {
    const key = AccountCacheService.key(tenantId);
    if (!this.redis) {
      const entry = this.local.get(key);
      if (!entry) return undefined;
      if (entry.expiresAtMs > Date.now()) return entry.json;
      this.local.delete(key);
      return undefined;
    }
    try {
      return (await this.redis.get(key)) ?? undefined;
    } catch (err) {
      this.logger.warn(`cache read failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  async get(tenantId: string): Promise<ConnectAccountDto | undefined> {
    const json = await this.getJson(tenantId);
    return json === undefined ? undefined : (JSON.parse(json) as ConnectAccountDto);
  }

  /** Stores the answer; `ttlMs` shortens the entry so it expires when the state it holds stops being fresh. */
  async set(tenantId: string, value: ConnectAccountDto, ttlMs = this.ttlMs): Promise<string> {
    const json = JSON.stringify(value);
    if (ttlMs <= 0) return json;
    const key = AccountCacheService.key(tenantId);
    if (!this.redis) {
      if (this.local.size >= MAX_LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value as string);
      this.local.set(key, { json, expiresAtMs: Date.now() + ttlMs });
      return json;
    }
    try {
      await this.redis.set(key, json, 'PX', Math.ceil(ttlMs));
    } catch (err) {
      this.logger.warn(`cache write failed: ${(err as Error).message}`);
    }
    return json;
  }

  /** Inside a transaction (`manager`), the entry is dropped once it commits (see afterCommit). */
  async invalidate(tenantId: string, manager?: EntityManager): Promise<void> {
    if (manager) return afterCommit(manager, () => this.invalidate(tenantId));
    const key = AccountCacheService.key(tenantId);
    if (!this.redis) {
      this.local.delete(key);
      return;
    }
    try {
      await this.redis.del(key);
    } catch (err) {
      this.logger.warn(`cache invalidation failed: ${(err as Error).message}`);
    }
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { BalanceDto } from './dto/payout.dto';

/** A balance answer kept this long at most, to answer `stale: true` while Stripe is down. */
const KEEP_FOR_STALE_SECONDS = 86_400;

/** Bounds the in-process cache (no REDIS_URL): the oldest entry goes first past it. */
const MAX_LOCAL_ENTRIES = 10_000;

/**
 * The last balance answer per tenant, stored as the JSON the endpoint sends, under two keys: `fresh` expires after
 * BALANCE_CACHE_SECONDS, so a warm read is one Redis GET sent as it is (no SQL, no parse and re-serialisation);
 * `last` is kept a day for the stale answer. Redis is an accelerator: a failing cache is logged and bypassed.
 */
@Injectable()
export class BalanceCacheService {
  private readonly logger = new Logger(BalanceCacheService.name);
  private readonly local = new Map<string, { json: string; expiresAtMs: number }>();

  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {}

  private static key(kind: 'fresh' | 'last', tenantId: string): string {
    // v2: the entry is the answer's JSON itself; entries of earlier shapes are never read.
    return `connect:balance:v2:${kind}:${tenantId}`;
  }

  /** The answer read less than BALANCE_CACHE_SECONDS ago, as stored; undefined on a miss or a failing cache. */
  getFreshJson(tenantId: string): Promise<string | undefined> {
    return this.read(BalanceCacheService.key('fresh', tenantId));
  }

  /** The last answer read from Stripe (up to a day old), for the stale answer. */
  async getLast(tenantId: string): Promise<BalanceDto | undefined> {
    const json = await this.read(BalanceCacheService.key('last', tenantId));
    return json === undefined ? undefined : (JSON.parse(json) as BalanceDto);
  }

  /** Stores the answer as fresh for `freshMs` and as the last one; returns its JSON. */
  async set(tenantId: string, value: BalanceDto, freshMs: number): Promise<string> {
    const json = JSON.stringify(value);
    const fresh = BalanceCacheService.key('fresh', tenantId);
    const last = BalanceCacheService.key('last', tenantId);
    if (!this.redis) {
      const now = Date.now();
      this.store(last, json, now + KEEP_FOR_STALE_SECONDS * 1000);
      if (freshMs > 0) this.store(fresh, json, now + freshMs);
      return json;
    }
    try {
      const batch = this.redis.multi().set(last, json, 'EX', KEEP_FOR_STALE_SECONDS);
      if (freshMs > 0) batch.set(fresh, json, 'PX', Math.ceil(freshMs));
      await batch.exec();
    } catch (err) {
      this.logger.warn(`balance cache write failed: ${(err as Error).message}`);
    }
    return json;
  }

  private async read(key: string): Promise<string | undefined> {
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
      this.logger.warn(`balance cache read failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  private store(key: string, json: string, expiresAtMs: number): void {
    this.local.delete(key);
    if (this.local.size >= MAX_LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value as string);
    this.local.set(key, { json, expiresAtMs });
  }
}

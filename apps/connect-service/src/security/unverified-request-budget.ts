import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { rateLimitConfig } from '@app/config';
import { publicIpKey, RATE_LIMITERS, refuseOverBudget } from './rate-limit.guard';

/**
 * The per-IP budget of public routes, spent by a route served outside Nest's guards (Stripe's webhook deliveries)
 * only for a request that failed its own verification. A flood of forged or unsigned requests from one IP is
 * answered 429 once over budget, while signed deliveries from the same IP keep being accepted.
 */
@Injectable()
export class UnverifiedRequestBudget {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(rateLimitConfig.KEY) private readonly cfg: ConfigType<typeof rateLimitConfig>,
  ) {}

  /** Counts one unverified request from `ip`; throws 429 RateLimited (with Retry-After) when over budget. */
  async spend(ip: string, reply: FastifyReply): Promise<void> {
    if (!this.cfg.enabled) return;
    const ttl = this.cfg.windowSeconds * 1000;
    const limit = this.cfg.perIpPublic;
    const hit = await this.storage.increment(publicIpKey(ip), ttl, limit, ttl, RATE_LIMITERS.publicIp);
    if (hit.isBlocked) refuseOverBudget(reply, limit, ttl, Math.max(1, hit.timeToBlockExpire));
  }
}

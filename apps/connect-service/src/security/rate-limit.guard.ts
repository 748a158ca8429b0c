import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { AuthenticatedRequest, IS_PUBLIC_KEY } from '@app/auth';
import { ServiceException, ErrorCode } from '@app/common';
import { rateLimitConfig } from '@app/config';

/** The three budgets; their sizes come from `rateLimitConfig`. */
export const RATE_LIMITERS = { caller: 'caller', tenant: 'tenant', publicIp: 'public-ip' } as const;

/** Probes and scrapes must answer under any load (Kubernetes and Prometheus call them constantly). */
const UNLIMITED_PREFIXES = ['/health', '/metrics', '/docs'];

const BEST = Symbol('rateLimitHeaders');
const SPENT = Symbol('rateLimitSpent');

/** The per-IP budget's storage key, shared by the guard and UnverifiedRequestBudget (one budget per IP). */
export function publicIpKey(ip: string): string {
  return `connect:rl:${RATE_LIMITERS.publicIp}:${createHash('sha256').update(`ip:${ip}`).digest('base64url')}`;
}

/** Sets `Retry-After` and the `RateLimit-*` headers and throws 429 RateLimited. */
export function refuseOverBudget(
  reply: FastifyReply,
  limit: number,
  ttlMs: number,
  retryAfter: number,
): never {
  void reply.header('Retry-After', retryAfter);
  void reply.header('RateLimit-Limit', limit);
  void reply.header('RateLimit-Remaining', 0);
  void reply.header('RateLimit-Reset', retryAfter);
  throw new ServiceException(ErrorCode.RateLimited, 'Too many requests', {
    limit,
    window_seconds: Math.round(ttlMs / 1000),
    retry_after_seconds: retryAfter,
  });
}

type LimitedRequest = AuthenticatedRequest & { [BEST]?: number; [SPENT]?: boolean };

/** The request's budgets were spent already (by the direct cached reads, which then let Nest serve it): not twice. */
export function markBudgetsSpent(req: object): void {
  (req as LimitedRequest)[SPENT] = true;
}

function ownString(container: unknown, key: string): string | undefined {
  if (!container || typeof container !== 'object' || !Object.prototype.hasOwnProperty.call(container, key))
    return undefined;
  const v = (container as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Rate limits on @nestjs/throttler. Runs after the auth guards (it is provided after AuthModule), so
 * authenticated routes are counted per verified caller (API key id or JWT `sub`) and per tenant, never per a
 * claim an attacker could forge to drain someone else's budget; `@Public()` routes (webhooks, OAuth callback)
 * get a per-IP budget instead. Budgets span all routes of the service. Over budget: 429 RateLimited with
 * `Retry-After` and the IETF draft `RateLimit-*` headers (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(rateLimitConfig.KEY) private readonly cfg: ConfigType<typeof rateLimitConfig>,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    if (!this.cfg.enabled || ctx.getType() !== 'http') return Promise.resolve(true);
    const req = ctx.switchToHttp().getRequest<LimitedRequest>();
    if (req[SPENT]) return Promise.resolve(true);
    const url = req.url;
    return Promise.resolve(
      UNLIMITED_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`)),
    );
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration } = props;
    const req = context.switchToHttp().getRequest<LimitedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const tracker = this.trackerFor(throttler.name ?? '', context, req);
    if (tracker === null) return true;

    const name = throttler.name ?? 'default';
    const key = `connect:rl:${name}:${createHash('sha256').update(tracker).digest('base64url')}`;
    const hit = await this.storageService.increment(key, ttl, limit, blockDuration, name);
    if (hit.isBlocked) refuseOverBudget(reply, limit, ttl, Math.max(1, hit.timeToBlockExpire));
    this.setRateLimitHeaders(req, reply, limit, Math.max(0, limit - hit.totalHits), hit.timeToExpire);
    return true;
  }

  private trackerFor(name: string, ctx: ExecutionContext, req: AuthenticatedRequest): string | null {
    const isPublic =
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
        ctx.getHandler(),
        ctx.getClass(),
      ]) === true;
    if (name === RATE_LIMITERS.publicIp) return isPublic ? `ip:${req.ip}` : null;
    if (isPublic || !req.user) return null;
    if (name === RATE_LIMITERS.caller) return `${req.user.method}:${req.user.keyId ?? req.user.sub}`;
    if (name === RATE_LIMITERS.tenant) {
      // A platform caller spends the budget of the tenant it acts for (the guards already checked it may).
      const tenant =
        req.user.tenantId ??
        ownString(req.params, 'tenantId') ??
        ownString(req.body, 'tenant_id') ??
        ownString(req.query, 'tenant_id');
      return tenant === undefined ? null : `tenant:${tenant}`;
    }
    return null;
  }

  /** Several budgets apply to one request: the headers describe the one closest to running out. */
  private setRateLimitHeaders(
    req: LimitedRequest,
    reply: FastifyReply,
    limit: number,
    remaining: number,
    resetSeconds: number,
  ): void {
    const best = req[BEST];
    if (best !== undefined && best <= remaining) return;
    req[BEST] = remaining;
    void reply.header('RateLimit-Limit', limit);
    void reply.header('RateLimit-Remaining', remaining);
    void reply.header('RateLimit-Reset', Math.max(0, resetSeconds));
  }
}

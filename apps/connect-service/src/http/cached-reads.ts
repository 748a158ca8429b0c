import { Type } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { authorizeFromMemory, Caller, KnownBearerTokens, RouteTarget } from '@app/auth';
import { rateLimitConfig } from '@app/config';
import { AccountsController } from '../accounts/accounts.controller';
import { AccountsService } from '../accounts/accounts.service';
import { PayoutsController } from '../payouts/payouts.controller';
import { PayoutsService } from '../payouts/payouts.service';
import { assertNoCardData } from '../security/card-number.guard';

/** A hot Nest GET whose warm-cache answer is served from Fastify; anything else runs the Nest route as usual. */
interface CachedRead {
  url: string;
  /** The Nest handler: its auth decorators are the requirements checked, and it serves every other case. */
  target: RouteTarget;
  provider: Type<unknown>;
  /** The cached answer's JSON, or undefined on a miss. */
  read: (provider: never, caller: Caller, tenantId: string) => Promise<string | undefined>;
}

const CACHED_READS: CachedRead[] = [
  {
    url: '/connect/accounts/:tenantId',
    target: [AccountsController.prototype.get, AccountsController],
    provider: AccountsService,
    read: (accounts: AccountsService, _caller, tenantId) => accounts.cachedViewJson(tenantId),
  },
  {
    url: '/connect/accounts/:tenantId/balance',
    target: [PayoutsController.prototype.balance, PayoutsController],
    provider: PayoutsService,
    read: (payouts: PayoutsService, caller, tenantId) => payouts.cachedBalanceJson(caller, tenantId),
  },
];

/**
 * The warm-cache hit of the hottest authenticated reads skips Nest's per-request pipeline (router, guards, pipes,
 * controller): a preHandler on the Nest route answers it when the guards' own checks pass from memory (a verified,
 * unrevoked bearer token with the route's role, scopes and tenant, no card data). An API key, an unknown token, any
 * refusal, a miss or an error falls through to the Nest handler, so every other answer is the one Nest gives.
 * Fastify's hooks (request id, deadline, input boundary, security headers, metrics, request log) run as for every
 * route. Not installed while rate limits are on: the budgets are spent by Nest's guard. Call before Nest's routes.
 */
export function registerCachedReads(
  app: NestFastifyApplication,
  fastify: FastifyInstance,
  reads: CachedRead[] = CACHED_READS,
): void {
  const lookUp = <T>(token: Type<T> | string | symbol): T | undefined => {
    try {
      return app.get<T>(token, { strict: false });
    } catch {
      return undefined;
    }
  };
  const limits = lookUp<ConfigType<typeof rateLimitConfig>>(rateLimitConfig.KEY);
  const known = lookUp(KnownBearerTokens);
  if (limits?.enabled !== false || !known) return;
  const reflector = app.get(Reflector);
  const hooks = new Map<string, preHandlerAsyncHookHandler>();
  for (const read of reads) {
    const provider = lookUp(read.provider);
    if (provider === undefined) continue;
    hooks.set(read.url, async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await cachedAnswer(read, provider, known, reflector, request);
      if (answer === undefined) return;
      await reply.type('application/json; charset=utf-8').send(answer);
    });
  }
  fastify.addHook('onRoute', (route) => {
    const hook = route.method === 'GET' ? hooks.get(route.url) : undefined;
    if (!hook) return;
    const own = route.preHandler;
    route.preHandler = own === undefined ? [hook] : [...(Array.isArray(own) ? own : [own]), hook];
  });
}

async function cachedAnswer(
  read: CachedRead,
  provider: unknown,
  known: KnownBearerTokens,
  reflector: Reflector,
  request: FastifyRequest & { user?: Caller },
): Promise<string | undefined> {
  const caller = authorizeFromMemory(known, reflector, read.target, request);
  const tenantId = (request.params as { tenantId?: unknown }).tenantId;
  if (!caller || typeof tenantId !== 'string') return undefined;
  try {
    assertNoCardData(request);
    const answer = await read.read(provider as never, caller, tenantId);
    if (answer !== undefined) request.user = caller;
    return answer;
  } catch {
    return undefined;
  }
}

import { Logger, Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { authorizeFromMemory, Caller, KnownBearerTokens, RouteTarget } from '@app/auth';
import { answerServiceError } from '@app/common';
import { AccountsController } from '../accounts/accounts.controller';
import { AccountsService } from '../accounts/accounts.service';
import { PayoutsController } from '../payouts/payouts.controller';
import { PayoutsService } from '../payouts/payouts.service';
import { assertNoCardData } from '../security/card-number.guard';
import { markBudgetsSpent, RateLimitGuard } from '../security/rate-limit.guard';
import { SecurityModule } from '../security/security.module';

/** A hot Nest GET whose warm-cache answer is served from Fastify; anything else runs the Nest route as usual. */
interface CachedRead {
  url: string;
  /** The Nest handler: its auth decorators are the requirements checked, and it serves every other case. */
  target: RouteTarget;
  provider: Type<unknown>;
  /** The cached answer's JSON, or undefined on a miss. */
  read: (provider: never, caller: Caller, tenantId: string) => Promise<string | undefined>;
}

const logger = new Logger('Errors');

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

/** What a cached read needs of the app, looked up once. */
interface Checks {
  known: KnownBearerTokens;
  reflector: Reflector;
  /** An instance of the global rate-limit guard: the budgets are spent by its own code. */
  limits: RateLimitGuard;
}

/**
 * The warm-cache hit of the hottest authenticated reads skips Nest's per-request pipeline (router, guards, pipes,
 * controller): a preHandler on the Nest route answers it when the global guards' own checks pass, in their order:
 * a verified, unrevoked bearer token from memory with the route's role, scopes and tenant, the rate limits, no card
 * data. An API key, an unknown token, an auth refusal, card data, a miss or an error falls through to the Nest
 * handler, so every other answer is the one Nest gives (budgets spent here are not spent again); only an over-budget
 * refusal is answered here, as the global filter would. Fastify's hooks (request id, deadline, input boundary,
 * security headers, metrics, request log) run as for every route. Call before Nest registers its routes.
 */
export async function registerCachedReads(
  app: NestFastifyApplication,
  fastify: FastifyInstance,
  reads: CachedRead[] = CACHED_READS,
): Promise<void> {
  const lookUp = <T>(token: Type<T>): T | undefined => {
    try {
      return app.get<T>(token, { strict: false });
    } catch {
      return undefined;
    }
  };
  const known = lookUp(KnownBearerTokens);
  let security: ModuleRef;
  try {
    security = app.select(SecurityModule).get(ModuleRef);
  } catch {
    return;
  }
  if (!known) return;
  const limits = await security.create(RateLimitGuard);
  await limits.onModuleInit();
  const checks: Checks = { known, reflector: app.get(Reflector), limits };
  const hooks = new Map<string, preHandlerAsyncHookHandler>();
  for (const read of reads) {
    const provider = lookUp(read.provider);
    if (provider === undefined) continue;
    hooks.set(read.url, async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await cachedAnswer(read, provider, checks, request, reply);
      if (reply.sent) return reply;
      if (answer === undefined) return;
      return reply.type('application/json; charset=utf-8').send(answer);
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
  { known, reflector, limits }: Checks,
  request: FastifyRequest & { user?: Caller },
  reply: FastifyReply,
): Promise<string | undefined> {
  const caller = authorizeFromMemory(known, reflector, read.target, request);
  const tenantId = (request.params as { tenantId?: unknown }).tenantId;
  if (!caller || typeof tenantId !== 'string') return undefined;
  // The rate-limit guard keys its budgets on the authenticated caller, as after Nest's auth guards.
  request.user = caller;
  try {
    await limits.canActivate(new ExecutionContextHost([request, reply], read.target[1], read.target[0]));
  } catch (err) {
    answerServiceError(err, request, reply, logger);
    return undefined;
  }
  markBudgetsSpent(request);
  try {
    assertNoCardData(request);
    return await read.read(provider as never, caller, tenantId);
  } catch {
    return undefined;
  }
}

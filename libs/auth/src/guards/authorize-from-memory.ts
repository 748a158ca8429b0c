import { Reflector } from '@nestjs/core';
import { Caller } from '../caller';
import { KnownBearerTokens } from '../known-bearer-tokens';
import { API_KEY_HEADER } from './authentication.guard';
import { isPublicTarget, RouteTarget } from './guard-context';
import { assertRole } from './roles.guard';
import { assertScopes } from './scopes.guard';
import { assertNamedTenants } from './tenant.guard';

/**
 * The four global auth guards' decision for a route served outside Nest, when it can be made from memory: the caller
 * of an already verified, unrevoked bearer token that passes the route's role, scopes and tenant checks. Undefined
 * for everything else (an API key, an unknown token, any refusal): the request then goes through Nest, whose
 * guards give the one answer.
 */
export function authorizeFromMemory(
  known: KnownBearerTokens,
  reflector: Reflector,
  target: RouteTarget,
  req: { headers: Record<string, unknown>; params?: unknown; body?: unknown; query?: unknown },
): Caller | undefined {
  const authorization = req.headers.authorization;
  if (isPublicTarget(reflector, target) || req.headers[API_KEY_HEADER] !== undefined) return undefined;
  if (typeof authorization !== 'string') return undefined;
  try {
    const caller = known.callerOf(authorization);
    if (!caller) return undefined;
    assertRole(reflector, target, caller);
    assertScopes(reflector, target, caller);
    assertNamedTenants(caller, req);
    return caller;
  } catch {
    return undefined;
  }
}

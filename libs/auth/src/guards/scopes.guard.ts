import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { Caller, missingScopes } from '../caller';
import { SCOPES_KEY } from '../decorators';
import { callerOf, isPublicRoute, requestOf, RouteTarget, targetOf } from './guard-context';

/** Third global guard: every scope named by `@Scopes` on the class and the method must be in the caller's scope. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, ctx)) return true;
    assertScopes(this.reflector, targetOf(ctx), callerOf(requestOf(ctx)));
    return true;
  }
}

/** Every scope named by `@Scopes` on the class and the method; shared with the direct cached reads. */
export function assertScopes(reflector: Reflector, [handler, controller]: RouteTarget, caller: Caller): void {
  const required = reflector.getAllAndMerge<string[]>(SCOPES_KEY, [controller, handler]);
  const missing = missingScopes(caller, required);
  if (missing.length === 0) return;
  throw new ServiceException(
    ErrorCode.Forbidden,
    `Missing scope${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
    {
      missing_scopes: missing,
    },
  );
}

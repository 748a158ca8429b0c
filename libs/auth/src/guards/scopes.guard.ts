import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { missingScopes } from '../caller';
import { SCOPES_KEY } from '../decorators';
import { callerOf, isPublicRoute, requestOf } from './guard-context';

/** Third global guard: every scope named by `@Scopes` on the class and the method must be in the caller's scope. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, ctx)) return true;
    const caller = callerOf(requestOf(ctx));
    const required = this.reflector.getAllAndMerge<string[]>(SCOPES_KEY, [ctx.getClass(), ctx.getHandler()]);
    const missing = missingScopes(caller, required);
    if (missing.length === 0) return true;
    throw new ServiceException(
      ErrorCode.Forbidden,
      `Missing scope${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
      {
        missing_scopes: missing,
      },
    );
  }
}

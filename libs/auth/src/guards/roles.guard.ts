import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { Caller, hasRole, Role } from '../caller';
import { ROLES_KEY } from '../decorators';
import { callerOf, isPublicRoute, requestOf, RouteTarget, targetOf } from './guard-context';

/** Second global guard: the caller's best role must reach the route's `@Roles(minimum)`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, ctx)) return true;
    assertRole(this.reflector, targetOf(ctx), callerOf(requestOf(ctx)));
    return true;
  }
}

/** The caller's best role must reach the route's `@Roles(minimum)`; shared with the direct cached reads. */
export function assertRole(reflector: Reflector, [handler, controller]: RouteTarget, caller: Caller): void {
  const minimum = reflector.getAllAndOverride<Role | undefined>(ROLES_KEY, [handler, controller]);
  if (minimum === undefined || hasRole(caller, minimum)) return;
  throw new ServiceException(ErrorCode.Forbidden, `Requires role ${minimum}`, { required_role: minimum });
}

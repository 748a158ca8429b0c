import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { hasRole, Role } from '../caller';
import { ROLES_KEY } from '../decorators';
import { callerOf, isPublicRoute, requestOf } from './guard-context';

/** Second global guard: the caller's best role must reach the route's `@Roles(minimum)`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, ctx)) return true;
    const caller = callerOf(requestOf(ctx));
    const minimum = this.reflector.getAllAndOverride<Role | undefined>(ROLES_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (minimum === undefined || hasRole(caller, minimum)) return true;
    throw new ServiceException(ErrorCode.Forbidden, `Requires role ${minimum}`, { required_role: minimum });
  }
}

import { ExecutionContext, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { Caller } from '../caller';
import { AuthenticatedRequest, IS_PUBLIC_KEY } from '../decorators';

/** A route handler and its controller: where the auth decorators leave their metadata. */
export type RouteTarget = [handler: ReturnType<ExecutionContext['getHandler']>, controller: Type<unknown>];

export function targetOf(ctx: ExecutionContext): RouteTarget {
  return [ctx.getHandler(), ctx.getClass()];
}

export function isPublicTarget(reflector: Reflector, [handler, controller]: RouteTarget): boolean {
  return reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [handler, controller]) === true;
}

export function isPublicRoute(reflector: Reflector, ctx: ExecutionContext): boolean {
  return isPublicTarget(reflector, targetOf(ctx));
}

export function requestOf(ctx: ExecutionContext): AuthenticatedRequest {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>();
}

/** The caller set by AuthenticationGuard; its absence means the guards run out of order, so fail closed. */
export function callerOf(req: AuthenticatedRequest): Caller {
  if (!req.user) throw new ServiceException(ErrorCode.Unauthenticated, 'Authentication required');
  return req.user;
}

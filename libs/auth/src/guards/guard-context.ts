import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { Caller } from '../caller';
import { AuthenticatedRequest, IS_PUBLIC_KEY } from '../decorators';

export function isPublicRoute(reflector: Reflector, ctx: ExecutionContext): boolean {
  return (
    reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [ctx.getHandler(), ctx.getClass()]) ===
    true
  );
}

export function requestOf(ctx: ExecutionContext): AuthenticatedRequest {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>();
}

/** The caller set by AuthenticationGuard; its absence means the guards run out of order, so fail closed. */
export function callerOf(req: AuthenticatedRequest): Caller {
  if (!req.user) throw new ServiceException(ErrorCode.Unauthenticated, 'Authentication required');
  return req.user;
}

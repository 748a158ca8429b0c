import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiSecurity, DECORATORS } from '@nestjs/swagger';
import { ApiErrors, ServiceException, ErrorCode } from '@app/common';
import type { FastifyRequest } from 'fastify';
import { Caller, Role } from './caller';

export const IS_PUBLIC_KEY = 'auth:public';
export const ROLES_KEY = 'auth:roles';
export const SCOPES_KEY = 'auth:scopes';

/** Swagger security scheme names; the DocumentBuilder must declare both (`addBearerAuth()`, `addApiKey(..., 'api_key')`). */
export const BEARER_SECURITY_NAME = 'bearer';
export const API_KEY_SECURITY_NAME = 'api_key';

/** The request as the guards see it once the caller is known. */
export type AuthenticatedRequest = FastifyRequest & { user?: Caller };

/** Opts a route (or a whole controller) out of every auth guard: probes, docs, metrics, webhooks, OAuth callback. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/** The minimum role (viewer < operator < admin; platform satisfies all). A method's value overrides its class's. */
export const Roles = (minimum: Role): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, minimum);

/** Scopes that must all be in the caller's token or key. Class and method scopes add up. */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(SCOPES_KEY, scopes);

export const CurrentCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  // Only reachable on a @Public() route that asks for a caller: treat it as unauthenticated, not as a 500.
  if (!caller) throw new ServiceException(ErrorCode.Unauthenticated, 'Authentication required');
  return caller;
});

export function describeRequirement(minimumRole: Role, scopes: readonly string[]): string {
  const scopePart = scopes.length
    ? ` and scope${scopes.length > 1 ? 's' : ''} ${scopes.map((s) => `\`${s}\``).join(', ')}`
    : '';
  return `Requires role \`${minimumRole}\`${scopePart}.`;
}

/**
 * Appends a line to the Swagger operation description without replacing what `@ApiOperation` set
 * (swagger's own decorator would reset `summary`). Place `@ApiAuth` above `@ApiOperation` when the latter has
 * a `description`, so both survive.
 */
function AppendOperationDescription(line: string): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const prev = (Reflect.getMetadata(DECORATORS.API_OPERATION, method) ?? {}) as { description?: string };
    const description = prev.description ? `${prev.description}\n\n${line}` : line;
    Reflect.defineMetadata(DECORATORS.API_OPERATION, { ...prev, description }, method);
    return descriptor;
  };
}

/**
 * Enforces and documents a route's access rule in one place: applies `@Roles` and `@Scopes`, the two
 * Swagger security schemes (either one authenticates), the 401/403 ServiceError responses and a
 * "Requires role X and scopes Y" line in the operation description.
 */
export function ApiAuth(minimumRole: Role, ...scopes: string[]): MethodDecorator {
  return applyDecorators(
    Roles(minimumRole),
    Scopes(...scopes),
    ApiBearerAuth(BEARER_SECURITY_NAME),
    ApiSecurity(API_KEY_SECURITY_NAME),
    ApiErrors(ErrorCode.Unauthenticated, ErrorCode.Forbidden),
    ApiExtension('x-required-role', minimumRole),
    ApiExtension('x-required-scopes', scopes),
    AppendOperationDescription(describeRequirement(minimumRole, scopes)),
  ) as MethodDecorator;
}

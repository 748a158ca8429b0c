import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { canActForTenant, Caller, isPlatform } from '../caller';
import { callerOf, isPublicRoute, requestOf } from './guard-context';

type Source = 'path' | 'body' | 'query';

function fieldOf(container: unknown, key: string): unknown {
  if (
    container === null ||
    typeof container !== 'object' ||
    Array.isArray(container) ||
    Buffer.isBuffer(container)
  ) {
    return undefined;
  }
  // Own properties only: a `tenant_id` reached through a polluted prototype must not count.
  return Object.prototype.hasOwnProperty.call(container, key)
    ? (container as Record<string, unknown>)[key]
    : undefined;
}

function namedTenants(req: {
  params?: unknown;
  body?: unknown;
  query?: unknown;
}): { source: Source; tenantId: string }[] {
  const found: { source: Source; tenantId: string }[] = [];
  const candidates: [Source, unknown][] = [
    ['path', fieldOf(req.params, 'tenantId')],
    ['body', fieldOf(req.body, 'tenant_id')],
    ['query', fieldOf(req.query, 'tenant_id')],
  ];
  for (const [source, value] of candidates) {
    if (value === undefined) continue;
    // Checked here, before validation pipes run: `?tenant_id=a&tenant_id=b` or `{"tenant_id": ["a"]}` must not
    // slip a second tenant past this guard.
    if (typeof value !== 'string') {
      throw new ServiceException(ErrorCode.ValidationFailed, 'tenant_id must be a single string', {
        fields: [
          { field: source === 'path' ? 'tenantId' : 'tenant_id', errors: ['must be a single string'] },
        ],
      });
    }
    found.push({ source, tenantId: value });
  }
  return found;
}

/**
 * Fourth global guard: the tenant named by the path `:tenantId`, the body's `tenant_id` or the query's
 * `tenant_id` must be one the caller may act for. A foreign tenant in the path answers 404 like a missing
 * one (no existence leak); a foreign tenant in a body or query is a 403. Routes naming no tenant pass; their
 * services scope queries with `tenantScopeOf` / `assertTenantAccess`.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, ctx)) return true;
    const req = requestOf(ctx);
    assertNamedTenants(callerOf(req), req);
    return true;
  }
}

/** The tenants a request names must all be one the caller may act for; shared with the direct cached reads. */
export function assertNamedTenants(
  caller: Caller,
  req: { params?: unknown; body?: unknown; query?: unknown },
): void {
  const named = namedTenants(req);
  if (named.length === 0) return;
  if (new Set(named.map((n) => n.tenantId)).size > 1) {
    throw new ServiceException(ErrorCode.ValidationFailed, 'The request names more than one tenant', {
      fields: named.map((n) => ({
        field: n.source === 'path' ? 'tenantId' : 'tenant_id',
        errors: ['must name the same tenant'],
      })),
    });
  }
  if (!isPlatform(caller) && caller.tenantId === null) {
    throw new ServiceException(ErrorCode.Forbidden, 'The caller is not bound to a tenant');
  }
  for (const n of named) check(caller, n.source, n.tenantId);
}

function check(caller: Caller, source: Source, tenantId: string): void {
  if (canActForTenant(caller, tenantId)) return;
  if (source === 'path') throw new ServiceException(ErrorCode.NotFound, 'Not found');
  throw new ServiceException(ErrorCode.Forbidden, 'The caller may not act for this tenant');
}

import { ServiceException, ErrorCode } from '@app/common';

export const ROLES = ['viewer', 'operator', 'admin', 'platform'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated identity behind a request, whichever way it authenticated. */
export interface Caller {
  sub: string;
  /** The tenant a tenant-scoped caller acts for; null for a platform caller without one. */
  tenantId: string | null;
  roles: Role[];
  scopes: string[];
  method: 'jwt' | 'api_key';
  /** The API key's visible id when `method` is `api_key`. */
  keyId?: string;
}

/** The scopes docs/api.md lists; a development platform token carries all of them. */
export const STANDARD_SCOPES = [
  'accounts:read',
  'accounts:write',
  'payments:read',
  'payments:write',
  'events:read',
  'events:write',
  'webhooks:read',
  'webhooks:write',
] as const;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3, platform: 4 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleRank(role: Role): number {
  return RANK[role];
}

/** viewer < operator < admin; `platform` satisfies every minimum. */
export function hasRole(caller: Pick<Caller, 'roles'>, minimum: Role): boolean {
  return caller.roles.some((r) => r === 'platform' || RANK[r] >= RANK[minimum]);
}

export function missingScopes(caller: Pick<Caller, 'scopes'>, required: readonly string[]): string[] {
  return [...new Set(required)].filter((s) => !caller.scopes.includes(s));
}

export function hasScopes(caller: Pick<Caller, 'scopes'>, required: readonly string[]): boolean {
  return missingScopes(caller, required).length === 0;
}

export function isPlatform(caller: Pick<Caller, 'roles'>): boolean {
  return caller.roles.includes('platform');
}

export function canActForTenant(caller: Pick<Caller, 'roles' | 'tenantId'>, tenantId: string): boolean {
  if (isPlatform(caller)) return true;
  return caller.tenantId !== null && caller.tenantId === tenantId;
}

/**
 * For services loading a tenant-owned row by its own id (e.g. `GET /connect/payments/:id`): a row of another
 * tenant answers exactly like a missing row, so ids of other tenants cannot be probed.
 */
export function assertTenantAccess(caller: Pick<Caller, 'roles' | 'tenantId'>, tenantId: string): void {
  if (!canActForTenant(caller, tenantId)) throw new ServiceException(ErrorCode.NotFound, 'Not found');
}

/**
 * The tenant a query must be scoped to: the caller's own tenant, or null for a platform caller (no filter).
 * A non-platform caller without a tenant can see nothing, so it is refused rather than given an unscoped query.
 */
export function tenantScopeOf(caller: Pick<Caller, 'roles' | 'tenantId'>): string | null {
  if (isPlatform(caller)) return null;
  if (caller.tenantId === null)
    throw new ServiceException(ErrorCode.Forbidden, 'The caller is not bound to a tenant');
  return caller.tenantId;
}

import { ServiceException, ErrorCode } from '@app/common';
import { Caller, isRole, ROLES, Role } from './caller';

/** Bounds that keep a hostile but validly signed token from carrying unbounded data into logs and queries. */
const MAX_ID_LENGTH = 255;
const MAX_SCOPE_LENGTH = 4096;
const MAX_ROLES = 16;

function invalid(reason: string): ServiceException {
  // The reason names the claim, never its value nor the token: both may be attacker-controlled or sensitive.
  return new ServiceException(ErrorCode.Unauthenticated, `Invalid token: ${reason}`);
}

function isNonEmptyString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.trim() !== '' && v.length <= max;
}

/**
 * Turns a verified JWT payload into a Caller, checking each claim's shape. Signature, `exp`,
 * `iss` and `aud` are the strategy's job; this only judges what the claims say.
 */
export function callerFromJwtPayload(payload: unknown): Caller {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw invalid('the payload must be a JSON object');
  }
  const p = payload as Record<string, unknown>;

  if (!isNonEmptyString(p.sub, MAX_ID_LENGTH)) {
    throw invalid(`sub must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }

  const roles = p.roles;
  if (!Array.isArray(roles) || roles.length === 0 || roles.length > MAX_ROLES || !roles.every(isRole)) {
    throw invalid(`roles must be a non-empty array of ${ROLES.join(', ')}`);
  }
  const uniqueRoles = [...new Set<Role>(roles)];

  let tenantId: string | null = null;
  if (p.tenant_id !== undefined && p.tenant_id !== null) {
    if (!isNonEmptyString(p.tenant_id, MAX_ID_LENGTH)) {
      throw invalid(`tenant_id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
    }
    tenantId = p.tenant_id;
  }
  if (tenantId === null && !uniqueRoles.includes('platform')) {
    throw invalid('tenant_id is required unless roles include platform');
  }

  let scopes: string[] = [];
  if (p.scope !== undefined && p.scope !== null) {
    if (typeof p.scope !== 'string' || p.scope.length > MAX_SCOPE_LENGTH) {
      throw invalid(`scope must be a space-separated string of at most ${MAX_SCOPE_LENGTH} characters`);
    }
    scopes = [...new Set(p.scope.split(/\s+/).filter(Boolean))];
  }

  return { sub: p.sub, tenantId, roles: uniqueRoles, scopes, method: 'jwt' };
}

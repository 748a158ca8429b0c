import { ServiceException, ErrorCode } from '@app/common';
import {
  assertTenantAccess,
  Caller,
  canActForTenant,
  hasRole,
  hasScopes,
  missingScopes,
  Role,
  roleRank,
  tenantScopeOf,
} from './caller';

const caller = (roles: Role[], tenantId: string | null = 't1', scopes: string[] = []): Caller => ({
  sub: 'user-1',
  tenantId,
  roles,
  scopes,
  method: 'jwt',
});

describe('roleRank', () => {
  it('orders viewer < operator < admin < platform', () => {
    expect(roleRank('viewer')).toBeLessThan(roleRank('operator'));
    expect(roleRank('operator')).toBeLessThan(roleRank('admin'));
    expect(roleRank('admin')).toBeLessThan(roleRank('platform'));
  });
});

describe('hasRole', () => {
  it.each<[Role[], Role, boolean]>([
    [['viewer'], 'viewer', true],
    [['viewer'], 'operator', false],
    [['viewer'], 'admin', false],
    [['operator'], 'viewer', true],
    [['operator'], 'operator', true],
    [['operator'], 'admin', false],
    [['admin'], 'viewer', true],
    [['admin'], 'admin', true],
    [['admin'], 'platform', false],
    [['platform'], 'viewer', true],
    [['platform'], 'admin', true],
    [['platform'], 'platform', true],
    [['viewer', 'admin'], 'operator', true],
    [['viewer', 'operator'], 'admin', false],
    [[], 'viewer', false],
  ])('%j meets minimum %s: %s', (roles, minimum, expected) => {
    expect(hasRole(caller(roles), minimum)).toBe(expected);
  });
});

describe('hasScopes / missingScopes', () => {
  it.each<[string[], string[], string[]]>([
    [['payments:read'], [], []],
    [['payments:read'], ['payments:read'], []],
    [['payments:read'], ['payments:write'], ['payments:write']],
    [['a', 'b', 'c'], ['a', 'c'], []],
    [['a'], ['a', 'b', 'b', 'c'], ['b', 'c']],
    [[], ['a'], ['a']],
    // Prefixes and wildcards grant nothing: scopes match exactly.
    [['payments'], ['payments:read'], ['payments:read']],
    [['payments:*'], ['payments:read'], ['payments:read']],
  ])('caller %j, required %j, missing %j', (held, required, missing) => {
    const c = caller(['admin'], 't1', held);
    expect(missingScopes(c, required)).toEqual(missing);
    expect(hasScopes(c, required)).toBe(missing.length === 0);
  });
});

describe('canActForTenant / assertTenantAccess', () => {
  it.each<[Role[], string | null, string, boolean]>([
    [['viewer'], 't1', 't1', true],
    [['admin'], 't1', 't1', true],
    [['admin'], 't1', 't2', false],
    [['operator'], 't1', 'T1', false],
    [['admin'], 't1', '', false],
    [['admin'], null, 't1', false],
    [['platform'], null, 't1', true],
    [['platform'], 't9', 't1', true],
    [['viewer', 'platform'], 't1', 't2', true],
  ])('%j of tenant %s acting for %s: %s', (roles, own, target, expected) => {
    const c = caller(roles, own);
    expect(canActForTenant(c, target)).toBe(expected);
    if (expected) {
      expect(() => assertTenantAccess(c, target)).not.toThrow();
    } else {
      expect(() => assertTenantAccess(c, target)).toThrow(
        expect.objectContaining({ code: ErrorCode.NotFound, httpStatus: 404 }) as ServiceException,
      );
    }
  });
});

describe('tenantScopeOf', () => {
  it('is null (no filter) for platform, the own tenant otherwise, and refuses an unbound tenant caller', () => {
    expect(tenantScopeOf(caller(['platform'], null))).toBeNull();
    expect(tenantScopeOf(caller(['platform'], 't1'))).toBeNull();
    expect(tenantScopeOf(caller(['viewer'], 't1'))).toBe('t1');
    expect(() => tenantScopeOf(caller(['admin'], null))).toThrow(
      expect.objectContaining({ code: ErrorCode.Forbidden }) as ServiceException,
    );
  });
});

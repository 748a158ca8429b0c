import { ServiceException, ErrorCode } from '@app/common';
import { callerFromJwtPayload } from './claims';

const base = {
  sub: 'user-1',
  tenant_id: 't1',
  roles: ['admin'],
  scope: 'payments:read payments:write',
  exp: 2e9,
};

function rejection(payload: unknown): ServiceException {
  try {
    callerFromJwtPayload(payload);
  } catch (err) {
    if (err instanceof ServiceException) return err;
    throw err;
  }
  throw new Error('expected the payload to be rejected');
}

describe('callerFromJwtPayload', () => {
  it('maps a tenant token to a Caller', () => {
    expect(callerFromJwtPayload(base)).toEqual({
      sub: 'user-1',
      tenantId: 't1',
      roles: ['admin'],
      scopes: ['payments:read', 'payments:write'],
      method: 'jwt',
    });
  });

  it('accepts a platform token without tenant_id', () => {
    const c = callerFromJwtPayload({ sub: 'svc', roles: ['platform'], scope: 'accounts:read', exp: 2e9 });
    expect(c.tenantId).toBeNull();
    expect(c.roles).toEqual(['platform']);
  });

  it('treats a null tenant_id like an absent one', () => {
    expect(callerFromJwtPayload({ ...base, tenant_id: null, roles: ['platform'] }).tenantId).toBeNull();
  });

  it('splits scope on any whitespace, drops empties and duplicates, and allows no scope at all', () => {
    expect(callerFromJwtPayload({ ...base, scope: '  a\tb  a\nc ' }).scopes).toEqual(['a', 'b', 'c']);
    expect(callerFromJwtPayload({ ...base, scope: undefined }).scopes).toEqual([]);
    expect(callerFromJwtPayload({ ...base, scope: '' }).scopes).toEqual([]);
  });

  it('deduplicates roles', () => {
    expect(callerFromJwtPayload({ ...base, roles: ['viewer', 'viewer', 'admin'] }).roles).toEqual([
      'viewer',
      'admin',
    ]);
  });

  it.each<[string, unknown, RegExp]>([
    ['a non-object payload', 'a.b.c', /payload/],
    ['an array payload', [base], /payload/],
    ['null', null, /payload/],
    ['no sub', { ...base, sub: undefined }, /sub/],
    ['an empty sub', { ...base, sub: '  ' }, /sub/],
    ['a numeric sub', { ...base, sub: 42 }, /sub/],
    ['an overlong sub', { ...base, sub: 'x'.repeat(256) }, /sub/],
    ['no roles', { ...base, roles: undefined }, /roles/],
    ['empty roles', { ...base, roles: [] }, /roles/],
    ['roles as a string', { ...base, roles: 'admin' }, /roles/],
    ['an unknown role', { ...base, roles: ['admin', 'root'] }, /roles/],
    ['a role of the wrong case', { ...base, roles: ['Admin'] }, /roles/],
    ['too many roles', { ...base, roles: Array<string>(17).fill('viewer') }, /roles/],
    ['a tenant caller without tenant_id', { ...base, tenant_id: undefined }, /tenant_id is required/],
    ['a numeric tenant_id', { ...base, tenant_id: 7 }, /tenant_id/],
    ['an empty tenant_id', { ...base, tenant_id: '' }, /tenant_id/],
    ['an array tenant_id', { ...base, tenant_id: ['t1'] }, /tenant_id/],
    ['scope as an array', { ...base, scope: ['payments:read'] }, /scope/],
    ['an overlong scope', { ...base, scope: 'a '.repeat(3000) }, /scope/],
  ])('rejects %s with CONNECT_020', (_name, payload, reason) => {
    const err = rejection(payload);
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.httpStatus).toBe(401);
    expect(err.message).toMatch(reason);
  });

  it('never echoes claim values in the reason', () => {
    const err = rejection({ ...base, roles: ['<script>secret-value</script>'] });
    expect(err.message).not.toContain('secret-value');
    expect(JSON.stringify(err.toBody())).not.toContain('secret-value');
  });
});

import type { Caller } from './caller';
import { VerifiedTokenCache } from './verified-token-cache';

const caller: Caller = {
  sub: 'platform',
  tenantId: null,
  roles: ['platform'],
  scopes: ['accounts:read'],
  method: 'jwt',
};
const until = (expiresAtMs: number) => ({ expiresAtMs, issuedAtMs: 0, jti: 'j1' });

describe('VerifiedTokenCache', () => {
  it('answers a verified token until it expires, then forgets it', () => {
    const cache = new VerifiedTokenCache();
    cache.set('Bearer a', caller, until(10_000));
    expect(cache.get('Bearer a', 9_999)).toEqual({ caller, facts: until(10_000) });
    expect(cache.get('Bearer a', 10_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('Bearer b', 0)).toBeUndefined();
  });

  it('hands each request its own copy', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', caller, until(Number.MAX_SAFE_INTEGER));
    const first = cache.get('t')!.caller;
    first.scopes.push('payments:write');
    first.tenantId = 'other';
    expect(cache.get('t')?.caller).toEqual(caller);
  });

  it('drops the oldest entry when full, and stores nothing with no room at all', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('a', caller, until(Number.MAX_SAFE_INTEGER));
    cache.set('b', caller, until(Number.MAX_SAFE_INTEGER));
    cache.set('c', caller, until(Number.MAX_SAFE_INTEGER));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    const none = new VerifiedTokenCache(0);
    none.set('a', caller, until(Number.MAX_SAFE_INTEGER));
    expect(none.get('a')).toBeUndefined();
  });
});

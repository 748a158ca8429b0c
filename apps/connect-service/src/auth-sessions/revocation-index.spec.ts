import { ANY_TENANT, RevocationIndex } from './revocation-index';
import type { ActiveRevocation } from './auth-revocations.repository';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const far = new Date(T0 + 86_400_000);
let n = 0;
const rev = (r: Partial<ActiveRevocation> & Pick<ActiveRevocation, 'kind'>): ActiveRevocation => ({
  id: `r${++n}`,
  tenant_id: ANY_TENANT,
  value: null,
  issued_before: null,
  expires_at: far,
  created_at: new Date(T0),
  ...r,
});
const facts = (over: { jti?: string; sid?: string; iat?: number } = {}) => ({
  expiresAtMs: T0 + 3_600_000,
  issuedAtMs: over.iat ?? T0 - 1_000,
  jti: over.jti,
  sid: over.sid,
});
const alice = { sub: 'alice', tenantId: 't1' };

describe('RevocationIndex', () => {
  it('matches a jti or a sid in its tenant scope or platform-wide, never another tenant', () => {
    const idx = new RevocationIndex();
    idx.add(rev({ kind: 'jti', value: 'j1', tenant_id: 't1' }));
    idx.add(rev({ kind: 'sid', value: 's1' }));
    expect(idx.match(alice, facts({ jti: 'j1' }))).not.toBeNull();
    expect(idx.match({ sub: 'alice', tenantId: 't2' }, facts({ jti: 'j1' }))).toBeNull();
    expect(idx.match({ sub: 'p', tenantId: null }, facts({ sid: 's1' }))).not.toBeNull();
    expect(idx.match(alice, facts({ jti: 'j2', sid: 's2' }))).toBeNull();
  });

  it('refuses a subject or tenant token issued before issued_before and accepts one issued after', () => {
    const idx = new RevocationIndex();
    idx.add(rev({ kind: 'sub', value: 'alice', tenant_id: 't1', issued_before: new Date(T0) }));
    idx.add(rev({ kind: 'tenant', tenant_id: 't9', issued_before: new Date(T0) }));
    expect(idx.match(alice, facts({ iat: T0 - 1 }))?.kind).toBe('sub');
    expect(idx.match(alice, facts({ iat: T0 }))).toBeNull();
    expect(idx.match({ sub: 'bob', tenantId: 't9' }, facts({ iat: T0 - 1 }))?.kind).toBe('tenant');
    expect(idx.match({ sub: 'bob', tenantId: 't9' }, facts({ iat: T0 + 1 }))).toBeNull();
    expect(idx.match({ sub: 'bob', tenantId: 't1' }, facts({ iat: T0 - 1 }))).toBeNull();
  });

  it('adds each revocation once and forgets it when it expires', () => {
    const idx = new RevocationIndex();
    const r = rev({ kind: 'jti', value: 'j', expires_at: new Date(T0 + 10) });
    idx.add(r);
    idx.add(r);
    expect(idx.size).toBe(1);
    idx.prune(T0 + 11);
    expect(idx.size).toBe(0);
    expect(idx.match(alice, facts({ jti: 'j' }))).toBeNull();
  });
});

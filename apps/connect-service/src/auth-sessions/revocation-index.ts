import type { Caller, TokenFacts } from '@app/auth';
import type { ActiveRevocation } from './auth-revocations.repository';

/** The scope of a platform-wide revocation: it covers callers of every tenant (and those without one). */
export const ANY_TENANT = '';

interface Entry {
  id: string;
  kind: ActiveRevocation['kind'];
  /** issued_before in ms for sub/tenant kinds; +Infinity for jti/sid (every token with that id). */
  beforeMs: number;
  expiresAtMs: number;
}

const keyOf = (kind: string, tenant: string, value: string): string => `${kind}\u0000${tenant}\u0000${value}`;

/**
 * Every active revocation, in memory, keyed for an O(1) answer per request: a lookup per form the token could be
 * covered by (its jti, its sid, its sub, its tenant), each in its own tenant scope and platform-wide.
 */
export class RevocationIndex {
  private readonly byKey = new Map<string, Entry[]>();
  private readonly ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(r: ActiveRevocation): void {
    if (this.ids.has(r.id)) return;
    this.ids.add(r.id);
    const value = r.kind === 'tenant' ? '' : (r.value ?? '');
    const key = keyOf(r.kind, r.tenant_id, value);
    const entry: Entry = {
      id: r.id,
      kind: r.kind,
      beforeMs: r.issued_before ? r.issued_before.getTime() : Number.POSITIVE_INFINITY,
      expiresAtMs: r.expires_at.getTime(),
    };
    const list = this.byKey.get(key);
    if (list) list.push(entry);
    else this.byKey.set(key, [entry]);
  }

  /** Forgets what expired; a token it covered can no longer be valid anyway. */
  prune(now = Date.now()): void {
    for (const [key, list] of this.byKey) {
      const kept = list.filter((e) => e.expiresAtMs > now);
      for (const e of list) if (e.expiresAtMs <= now) this.ids.delete(e.id);
      if (kept.length) this.byKey.set(key, kept);
      else this.byKey.delete(key);
    }
  }

  /** The revocation covering this token, or null. */
  match(caller: Pick<Caller, 'sub' | 'tenantId'>, facts: TokenFacts): Entry | null {
    if (this.ids.size === 0) return null;
    const scopes = caller.tenantId === null ? [ANY_TENANT] : [ANY_TENANT, caller.tenantId];
    for (const tenant of scopes) {
      const found =
        (facts.jti !== undefined && this.covering(keyOf('jti', tenant, facts.jti), facts)) ||
        (facts.sid !== undefined && this.covering(keyOf('sid', tenant, facts.sid), facts)) ||
        this.covering(keyOf('sub', tenant, caller.sub), facts);
      if (found) return found;
    }
    if (caller.tenantId !== null) return this.covering(keyOf('tenant', caller.tenantId, ''), facts);
    return null;
  }

  private covering(key: string, facts: TokenFacts): Entry | null {
    const list = this.byKey.get(key);
    if (!list) return null;
    return list.find((e) => facts.issuedAtMs < e.beforeMs) ?? null;
  }
}

import type { Caller } from './caller';

/** What revocation needs to know about a verified token beyond its caller (all times in ms since the epoch). */
export interface TokenFacts {
  /** When the token stops being accepted: `exp` plus the allowed clock skew. */
  expiresAtMs: number;
  /** `iat`: what `issued_before` revocations compare with. */
  issuedAtMs: number;
  jti?: string;
  /** The identity provider's login session (OpenID Connect `sid`), revocable like a `jti`. */
  sid?: string;
}

/**
 * Bearer tokens already verified, with the caller they stand for, until they expire. A platform backend sends the
 * same token on every request, so verifying its signature once instead of per request removes most of the cost of
 * authenticating (passport's plumbing plus an HMAC or RSA check). Only tokens that passed full verification are
 * stored, so a flood of forged tokens cannot fill it; `exp` is checked on every hit, and the oldest entry goes first
 * when it is full. Revocation is checked by the guard on every hit, so a revoked token is never served from here.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { caller: Caller; facts: TokenFacts }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** A copy of the caller (a handler may attach things to its request's caller) and its token's facts. */
  get(token: string, now = Date.now()): { caller: Caller; facts: TokenFacts } | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.facts.expiresAtMs <= now) {
      this.entries.delete(token);
      return undefined;
    }
    const c = entry.caller;
    return { caller: { ...c, roles: [...c.roles], scopes: [...c.scopes] }, facts: entry.facts };
  }

  set(token: string, caller: Caller, facts: TokenFacts): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { caller: { ...caller }, facts });
  }

  get size(): number {
    return this.entries.size;
  }
}

const facts = new WeakMap<Caller, TokenFacts>();

/** Remembers the facts of the verified JWT a caller came from. */
export function rememberTokenFacts(caller: Caller, f: TokenFacts): Caller {
  facts.set(caller, f);
  return caller;
}

/** The facts remembered for a caller made from a verified JWT; undefined for any other caller. */
export function tokenFactsOf(caller: Caller): TokenFacts | undefined {
  return facts.get(caller);
}

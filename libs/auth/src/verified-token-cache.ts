import type { Caller } from './caller';

/**
 * Bearer tokens already verified, with the caller they stand for, until they expire. A platform backend sends the
 * same token on every request, so verifying its signature once instead of per request removes most of the cost of
 * authenticating (passport's plumbing plus an HMAC or RSA check). Only tokens that passed full verification are
 * stored, so a flood of forged tokens cannot fill it; `exp` is checked on every hit, and the oldest entry goes first
 * when it is full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { caller: Caller; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** A copy of the caller (a handler may attach things to its request's caller), or undefined. */
  get(token: string, now = Date.now()): Caller | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return { ...entry.caller, roles: [...entry.caller.roles], scopes: [...entry.caller.scopes] };
  }

  set(token: string, caller: Caller, expiresAtMs: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { caller: { ...caller }, expiresAtMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

const expiries = new WeakMap<Caller, number>();

/** Remembers when the token a caller came from expires (seconds since the epoch, the JWT `exp`). */
export function rememberExpiry(caller: Caller, exp: number): Caller {
  expiries.set(caller, exp * 1000);
  return caller;
}

/** The expiry (ms) remembered for a caller made from a verified JWT; undefined for any other caller. */
export function expiryOf(caller: Caller): number | undefined {
  return expiries.get(caller);
}

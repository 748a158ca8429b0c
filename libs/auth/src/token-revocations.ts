import type { Caller } from './caller';
import type { TokenFacts } from './verified-token-cache';

/**
 * Extension point for JWT revocation. Bind an implementation anywhere in the app; the AuthenticationGuard finds it
 * at request time and asks it on every JWT-authenticated request, cached tokens included. The answer must come from
 * memory (no I/O on the request path): the implementation keeps its own copy of the revocations in sync.
 */
export abstract class TokenRevocations {
  /** The id of a revocation covering this token, or null when none does. */
  abstract revokedBy(caller: Caller, facts: TokenFacts): string | null;
}

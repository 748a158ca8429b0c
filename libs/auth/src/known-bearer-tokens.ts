import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ServiceException, ErrorCode } from '@app/common';
import { Caller } from './caller';
import { TokenRevocations } from './token-revocations';
import { TokenFacts, VerifiedTokenCache, tokenFactsOf } from './verified-token-cache';

export function unauthenticated(message = 'Authentication required'): ServiceException {
  return new ServiceException(ErrorCode.Unauthenticated, message);
}

/**
 * The bearer tokens already verified, shared by AuthenticationGuard and the direct cached reads so both accept
 * exactly the same tokens; revocation is checked on every hit, from memory (TokenRevocations keeps its copy in sync).
 */
@Injectable()
export class KnownBearerTokens {
  private readonly verified = new VerifiedTokenCache();
  private revocations: TokenRevocations | null | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** The caller of an already verified, unexpired token, or undefined; throws Unauthenticated once it is revoked. */
  callerOf(authorization: string): Caller | undefined {
    const known = this.verified.get(authorization);
    if (!known) return undefined;
    this.assertNotRevoked(known.caller, known.facts);
    return known.caller;
  }

  /** Remembers a caller passport just verified from a JWT (other callers are not cached); refuses it if revoked. */
  remember(authorization: string, caller: Caller): void {
    const facts = tokenFactsOf(caller);
    if (facts === undefined) return;
    this.assertNotRevoked(caller, facts);
    this.verified.set(authorization, caller, facts);
  }

  private assertNotRevoked(caller: Caller, facts: TokenFacts): void {
    this.revocations ??= this.lookUpRevocations();
    if (this.revocations?.revokedBy(caller, facts)) throw unauthenticated('Token revoked');
  }

  private lookUpRevocations(): TokenRevocations | null {
    try {
      return this.moduleRef.get(TokenRevocations, { strict: false });
    } catch {
      return null;
    }
  }
}

import { createPublicKey, createSecretKey } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { authConfig } from '@app/config';
import { ServiceException, ErrorCode } from '@app/common';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import { Caller } from './caller';
import { callerFromJwtPayload } from './claims';
import { rememberTokenFacts } from './verified-token-cache';

export const JWT_STRATEGY_NAME = 'jwt';

export type JwtVerificationMode =
  | { kind: 'hs256-secret'; algorithm: 'HS256'; secret: string }
  | { kind: 'rs256-public-key'; algorithm: 'RS256'; publicKey: string }
  | { kind: 'rs256-jwks'; algorithm: 'RS256'; jwksUrl: string };

/**
 * Exactly one key source and one algorithm. Accepting several algorithms at once is what makes the
 * RS256→HS256 key-confusion attack possible, so an asymmetric setting wins over a secret rather than both
 * being honoured.
 */
export function jwtVerificationMode(
  cfg: Pick<ConfigType<typeof authConfig>, 'secret' | 'publicKey' | 'jwksUrl'>,
): JwtVerificationMode {
  if (cfg.jwksUrl) return { kind: 'rs256-jwks', algorithm: 'RS256', jwksUrl: cfg.jwksUrl };
  if (cfg.publicKey) return { kind: 'rs256-public-key', algorithm: 'RS256', publicKey: cfg.publicKey };
  if (cfg.secret) return { kind: 'hs256-secret', algorithm: 'HS256', secret: cfg.secret };
  throw new Error('No JWT verification key: set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
}

function strategyOptions(
  cfg: ConfigType<typeof authConfig>,
  mode: JwtVerificationMode,
): StrategyOptionsWithoutRequest {
  const base = {
    jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
    algorithms: [mode.algorithm],
    issuer: cfg.issuer,
    audience: cfg.audience,
    ignoreExpiration: false,
    // exp and nbf (https://datatracker.ietf.org/doc/html/rfc7519#section-4.1.5) with the identity provider's drift.
    jsonWebTokenOptions: { clockTolerance: cfg.clockSkewSeconds },
  };
  switch (mode.kind) {
    // A KeyObject, built once: given a string, jsonwebtoken first tries createPublicKey() on it and catches the
    // throw before falling back to createSecretKey(), on every request (27% of the CPU of an authenticated cached
    // read in a CPU profile under load). The typings say string | Buffer; jsonwebtoken's verify() takes a KeyObject.
    case 'hs256-secret':
      return { ...base, secretOrKey: createSecretKey(Buffer.from(mode.secret)) as unknown as Buffer };
    case 'rs256-public-key':
      return { ...base, secretOrKey: createPublicKey(mode.publicKey) as unknown as Buffer };
    case 'rs256-jwks':
      return {
        ...base,
        // Cached and rate-limited so a flood of tokens with made-up `kid`s cannot hammer the identity provider.
        secretOrKeyProvider: passportJwtSecret({
          jwksUri: mode.jwksUrl,
          cache: true,
          cacheMaxEntries: 10,
          cacheMaxAge: 10 * 60_000,
          rateLimit: true,
          jwksRequestsPerMinute: 10,
          timeout: 5_000,
        }),
      };
  }
}

const MAX_CLAIM_ID_LENGTH = 255;

function optionalId(p: Record<string, unknown>, claim: 'jti' | 'sid'): string | undefined {
  const v = p[claim];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > MAX_CLAIM_ID_LENGTH) {
    throw new ServiceException(ErrorCode.Unauthenticated, `Invalid token: ${claim} must be a short string`);
  }
  return v;
}

/** Verifies `Authorization: Bearer` tokens and turns their claims into a Caller. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY_NAME) {
  private readonly maxTtlSeconds: number;
  private readonly skewSeconds: number;

  constructor(@Inject(authConfig.KEY) cfg: ConfigType<typeof authConfig>) {
    const mode = jwtVerificationMode(cfg);
    super(strategyOptions(cfg, mode));
    this.maxTtlSeconds = cfg.maxTtlSeconds;
    this.skewSeconds = cfg.clockSkewSeconds;
    const logger = new Logger(JwtStrategy.name);
    if (mode.kind !== 'hs256-secret' && cfg.secret && !cfg.generatedSecret) {
      logger.warn(`JWT_SECRET is ignored: tokens are verified with RS256 (${mode.kind})`);
    }
  }

  validate(payload: unknown): Caller {
    const p = (payload ?? {}) as Record<string, unknown>;
    // jsonwebtoken only checks `exp` when present; the contract makes it mandatory so no token lives forever.
    const exp = p.exp;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new ServiceException(ErrorCode.Unauthenticated, 'Invalid token: exp is required');
    }
    // `iat` bounds the token's life and is what an `issued_before` revocation compares with.
    const iat = p.iat;
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new ServiceException(ErrorCode.Unauthenticated, 'Invalid token: iat is required');
    }
    if (iat > Date.now() / 1000 + this.skewSeconds) {
      throw new ServiceException(ErrorCode.Unauthenticated, 'Invalid token: iat is in the future');
    }
    if (exp - iat > this.maxTtlSeconds) {
      throw new ServiceException(
        ErrorCode.Unauthenticated,
        'Invalid token: its lifetime (exp - iat) exceeds the maximum this service accepts',
      );
    }
    const caller = callerFromJwtPayload(payload);
    return rememberTokenFacts(caller, {
      expiresAtMs: (exp + this.skewSeconds) * 1000,
      issuedAtMs: iat * 1000,
      jti: optionalId(p, 'jti'),
      sid: optionalId(p, 'sid'),
    });
  }
}

import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ServiceException } from '@app/common';
import { TokenExpiredError } from 'jsonwebtoken';
import { ApiKeyVerifier } from '../api-key-verifier';
import { Caller } from '../caller';
import { JWT_STRATEGY_NAME } from '../jwt.strategy';
import { KnownBearerTokens, unauthenticated } from '../known-bearer-tokens';
import { isPublicRoute, requestOf } from './guard-context';

export const API_KEY_HEADER = 'x-api-key';

/**
 * First global guard: establishes `request.user` from a bearer JWT (passport-jwt) or an `X-API-Key`
 * (the optional ApiKeyVerifier). Every failure is a Unauthenticated ServiceError with a generic reason: passport's
 * own 401 and jsonwebtoken's messages (which can echo the expected issuer or audience) never reach the caller.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(JWT_STRATEGY_NAME) {
  private readonly logger = new Logger(AuthenticationGuard.name);
  private verifier: ApiKeyVerifier | null | undefined;

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly known: KnownBearerTokens,
  ) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (isPublicRoute(this.reflector, ctx)) return true;
    const req = requestOf(ctx);
    const authorization = req.headers.authorization;
    const apiKey = req.headers[API_KEY_HEADER];

    if (apiKey !== undefined) {
      // Two credentials could name two identities; refusing is simpler to reason about than picking one.
      if (authorization !== undefined)
        throw unauthenticated('Send either a bearer token or an API key, not both');
      req.user = await this.verifyApiKey(apiKey, req.ip);
      return true;
    }
    if (authorization === undefined) throw unauthenticated();
    const known = this.known.callerOf(authorization);
    if (known) {
      req.user = known;
      return true;
    }
    const ok = (await super.canActivate(ctx)) as boolean;
    if (ok && req.user) this.known.remember(authorization, req.user);
    return ok;
  }

  override handleRequest<TUser = Caller>(err: unknown, user: unknown, info: unknown): TUser {
    if (err instanceof ServiceException) throw err;
    if (err) {
      this.logger.warn({ err }, 'JWT verification errored');
      throw unauthenticated('Invalid token');
    }
    if (user) return user as TUser;
    if (info instanceof TokenExpiredError) throw unauthenticated('Token expired');
    if (info instanceof Error && info.message === 'No auth token') throw unauthenticated();
    // A JWKS fetch failure lands here too: worth a log line, since it is our problem rather than the caller's.
    if (info instanceof Error && info.name !== 'JsonWebTokenError' && info.name !== 'NotBeforeError') {
      this.logger.warn({ reason: info.name }, 'JWT verification failed for a non-token reason');
    }
    throw unauthenticated('Invalid token');
  }

  private async verifyApiKey(header: string | string[], ip: string): Promise<Caller> {
    if (typeof header !== 'string' || header.trim() === '') throw unauthenticated('Invalid API key');
    const verifier = this.apiKeyVerifier();
    if (!verifier) throw unauthenticated('API keys are not accepted');
    const caller = await verifier.verify(header.trim(), ip);
    if (!caller) throw unauthenticated('Invalid API key');
    return caller;
  }

  /** Looked up once, app-wide, so the binding module needs neither to be global nor imported here. */
  private apiKeyVerifier(): ApiKeyVerifier | null {
    if (this.verifier !== undefined) return this.verifier;
    this.verifier = this.lookUp(ApiKeyVerifier);
    return this.verifier;
  }

  private lookUp<T>(token: abstract new (...args: never[]) => T): T | null {
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      return null;
    }
  }
}

import { sign, SignOptions } from 'jsonwebtoken';
import { Role } from './caller';

export interface AccessTokenClaims {
  sub: string;
  tenant_id?: string;
  roles: Role[];
  /** Space-separated scopes. */
  scope: string;
}

export interface AccessTokenOptions {
  secret: string;
  expiresIn?: SignOptions['expiresIn'];
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 access token in the shape the JwtStrategy accepts (dev platform token at boot, tests). */
export function signAccessToken(claims: AccessTokenClaims, opts: AccessTokenOptions): string {
  const payload: Record<string, unknown> = { roles: claims.roles, scope: claims.scope };
  if (claims.tenant_id !== undefined) payload.tenant_id = claims.tenant_id;
  const options: SignOptions = {
    algorithm: 'HS256',
    subject: claims.sub,
    expiresIn: opts.expiresIn ?? '1h',
  };
  if (opts.issuer !== undefined) options.issuer = opts.issuer;
  if (opts.audience !== undefined) options.audience = opts.audience;
  return sign(payload, opts.secret, options);
}

import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits: well above the 128 the issue asks for, base64url so it travels in a URL untouched. */
const STATE_BYTES = 32;

export function newOAuthState(): { state: string; hash: string } {
  const state = randomBytes(STATE_BYTES).toString('base64url');
  return { state, hash: hashOAuthState(state) };
}

/** Only this hash is stored: whoever reads the table cannot complete a flow. */
export function hashOAuthState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/** Browsers and Stripe only ever send what we issued; anything else is refused before touching the database. */
export function isWellFormedState(state: unknown): state is string {
  return typeof state === 'string' && /^[A-Za-z0-9_-]{43}$/.test(state);
}

/** The callback URL a caller may ask for: the configured one or one from the allow-list, never an arbitrary URL. */
export function isAllowedRedirectUri(uri: string, configured: string, allowList: readonly string[]): boolean {
  return uri === configured || allowList.includes(uri);
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `ck_<env>_<public id>_<secret>`: the public id (20 hex chars) finds the row and may be shown and logged; the
 * secret (32 random bytes, base64url) is shown once and only its hash is stored. The public id has no `_`,
 * so the key parses unambiguously although base64url secrets may contain `_` and `-`.
 */
const KEY_FORMAT = /^ck_(live|test)_([0-9a-f]{20})_([A-Za-z0-9_-]{43})$/;

export type ApiKeyEnv = 'live' | 'test';

export interface ParsedApiKey {
  env: ApiKeyEnv;
  publicId: string;
}

export function generateApiKey(env: ApiKeyEnv): { key: string; publicId: string; hash: string } {
  const publicId = randomBytes(10).toString('hex');
  const key = `ck_${env}_${publicId}_${randomBytes(32).toString('base64url')}`;
  return { key, publicId, hash: hashApiKey(key) };
}

export function parseApiKey(raw: string): ParsedApiKey | null {
  const m = KEY_FORMAT.exec(raw);
  return m ? { env: m[1] as ApiKeyEnv, publicId: m[2] } : null;
}

/** SHA-256 suffices: the secret has 256 bits of entropy, so there is nothing for a slow hash to stretch. */
export function hashApiKey(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The part of a key that may be displayed: `ck_test_<public id>`. */
export function keyPrefixOf(env: string, publicId: string): string {
  return `ck_${env}_${publicId}`;
}

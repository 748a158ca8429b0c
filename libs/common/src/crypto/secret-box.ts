import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ServiceException } from '../errors/service-error';
import { ErrorCode } from '../errors/error-codes';

export interface SecretKey {
  id: string;
  key: Buffer;
}

/** Parses ENCRYPTION_KEY entries: `keyid:base64` or bare base64 (its id is derived from the key itself). */
export function parseEncryptionKeys(entries: string[]): SecretKey[] {
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const raw = colon > 0 ? entry.slice(colon + 1) : entry;
    const key = Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new Error('ENCRYPTION_KEY entries must be 32 bytes in base64');
    const id = colon > 0 ? entry.slice(0, colon) : createHash('sha256').update(key).digest('hex').slice(0, 8);
    return { id, key };
  });
}

const VERSION = 'v1';

/**
 * AES-256-GCM for secrets at rest (OAuth tokens, subscription secrets). Each value carries the id of the key
 * that sealed it, so keys rotate: the first key seals, every configured key opens. `context` is bound as
 * additional authenticated data, so a ciphertext copied to another row or column does not open.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: SecretKey[]) {
    if (!keys.length) throw new Error('SecretBox needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get currentKeyId(): string {
    return this.keys[0].id;
  }

  seal(plaintext: string, context: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join('.');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, iv, tag, ct] = sealed.split('.');
    const key = keyId ? this.byId.get(keyId) : undefined;
    if (version !== VERSION || !key || !iv || !tag || ct === undefined) {
      throw new ServiceException(
        ErrorCode.Internal,
        'A stored secret cannot be decrypted with the configured keys',
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new ServiceException(
        ErrorCode.Internal,
        'A stored secret failed authentication (wrong key or context)',
      );
    }
  }

  /** True when the value is sealed with a key other than the current one (re-encryption candidates). */
  needsRotation(sealed: string): boolean {
    return sealed.split('.')[1] !== this.currentKeyId;
  }
}

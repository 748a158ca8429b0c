import { randomBytes } from 'node:crypto';
import { parseEncryptionKeys, SecretBox } from './secret-box';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('SecretBox', () => {
  const k1 = key('k1');
  const k2 = key('k2');

  it('round-trips and never stores the plaintext', () => {
    const box = new SecretBox(parseEncryptionKeys([k1]));
    const sealed = box.seal('sk_test_secret_token', 'ctx');
    expect(sealed).not.toContain('sk_test_secret_token');
    expect(sealed.startsWith('v1.k1.')).toBe(true);
    expect(box.open(sealed, 'ctx')).toBe('sk_test_secret_token');
    expect(box.seal('same', 'ctx')).not.toBe(box.seal('same', 'ctx'));
  });

  it('refuses another context, a tampered value and an unknown key', () => {
    const box = new SecretBox(parseEncryptionKeys([k1]));
    const sealed = box.seal('token', 'tenant-a');
    expect(() => box.open(sealed, 'tenant-b')).toThrow(/failed authentication/);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'tenant-a')).toThrow(/failed authentication/);
    expect(() => new SecretBox(parseEncryptionKeys([k2])).open(sealed, 'tenant-a')).toThrow(
      /cannot be decrypted/,
    );
  });

  it('rotates: the new key seals, the old one still opens', () => {
    const old = new SecretBox(parseEncryptionKeys([k1]));
    const sealedOld = old.seal('token', 'c');
    const rotated = new SecretBox(parseEncryptionKeys([k2, k1]));
    expect(rotated.open(sealedOld, 'c')).toBe('token');
    expect(rotated.needsRotation(sealedOld)).toBe(true);
    expect(rotated.needsRotation(rotated.seal('token', 'c'))).toBe(false);
  });

  it('derives a stable id for a bare key and rejects short keys', () => {
    const bare = randomBytes(32).toString('base64');
    expect(parseEncryptionKeys([bare])[0].id).toBe(parseEncryptionKeys([bare])[0].id);
    expect(() => parseEncryptionKeys([randomBytes(16).toString('base64')])).toThrow(/32 bytes/);
  });
});

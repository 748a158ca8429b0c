import { generateApiKey, hashApiKey, hashesEqual, keyPrefixOf, parseApiKey } from './api-key-format';

describe('API key format', () => {
  it('generates keys that parse back, with a 32-byte secret, and hashes them', () => {
    for (let i = 0; i < 50; i++) {
      const { key, publicId, hash } = generateApiKey('test');
      expect(key.startsWith(`${keyPrefixOf('test', publicId)}_`)).toBe(true);
      expect(Buffer.from(key.split('_').slice(3).join('_'), 'base64url')).toHaveLength(32);
      expect(parseApiKey(key)).toEqual({ env: 'test', publicId });
      expect(hash).toBe(hashApiKey(key));
      expect(hash).not.toContain(key.slice(-20));
    }
  });

  it.each(['', 'ck_test_abc_def', 'ck_prod_0123456789abcdef0123_' + 'a'.repeat(43), 'x'.repeat(500)])(
    'refuses %j',
    (raw) => expect(parseApiKey(raw)).toBeNull(),
  );

  it('compares hashes in constant time and refuses empty or unequal ones', () => {
    const h = hashApiKey('a');
    expect(hashesEqual(h, hashApiKey('a'))).toBe(true);
    expect(hashesEqual(h, hashApiKey('b'))).toBe(false);
    expect(hashesEqual(h, '')).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
  });
});

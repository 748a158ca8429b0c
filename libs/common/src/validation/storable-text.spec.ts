import { ErrorCode } from '../errors/error-codes';
import { findUnstorableText, unstorableText } from './storable-text';

describe('storable text', () => {
  it('refuses NUL and lone surrogates, accepts paired ones', () => {
    expect(unstorableText('a\u0000b')).toMatch(/NUL/);
    expect(unstorableText('\ud800')).toMatch(/surrogate/);
    expect(unstorableText('x\udc00')).toMatch(/surrogate/);
    expect(unstorableText('emoji 😀 é')).toBeNull();
  });

  it('names the field of the first bad string, in values and keys, however deep', () => {
    const err = findUnstorableText({ items: [{ price: 'ok' }, { price: 'p\u0000' }] });
    expect(err?.code).toBe(ErrorCode.ValidationFailed);
    expect(err?.details).toEqual({
      fields: [{ field: 'items[1].price', errors: [expect.stringMatching(/NUL/)] }],
    });
    expect(findUnstorableText({ metadata: { ['k\ud800']: 'v' } })?.details?.fields).toEqual([
      { field: 'metadata', errors: [expect.stringMatching(/key/)] },
    ]);
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findUnstorableText(deep)).not.toBeNull();
    expect(findUnstorableText({ a: [1, true, null, 'fine'] })).toBeNull();
  });
});

import { scrub, scrubText } from './scrub';

describe('error report redaction', () => {
  it('replaces secret-named fields anywhere, as the logs do', () => {
    const out = scrub({
      request: {
        authorization: 'Bearer abc',
        cookie: 'c',
        'x-api-key': 'k',
        accept: 'json',
        headers: { a: 1 },
      },
      extra: { nested: [{ client_secret: 'pi_1_secret_2', token: 't', amount: 100 }] },
    });
    expect(out).toEqual({
      // A whole `headers` object is redacted, as the logs redact err.config.headers.
      request: {
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        accept: 'json',
        headers: '[REDACTED]',
      },
      extra: { nested: [{ client_secret: '[REDACTED]', token: '[REDACTED]', amount: 100 }] },
    });
  });

  it('cleans tokens, keys and card numbers out of free text, and leaves other numbers alone', () => {
    const text =
      'failed for Bearer eyJhbGciOi.eyJzdWIiOiJ4In0.sig with sk_live_abc123 whsec_xyz ck_test_a_b ' +
      'pi_123_secret_456 card 4242 4242 4242 4242 order 1234567890123';
    const out = scrubText(text);
    for (const secret of [
      'eyJ',
      'sk_live_abc123',
      'whsec_xyz',
      'ck_test_a_b',
      'pi_123_secret_456',
      '4242 4242',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('order 1234567890123');
  });
});

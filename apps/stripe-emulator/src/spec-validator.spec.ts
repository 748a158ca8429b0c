import { StripeApiError } from './errors';
import { defaultSpecPath, SpecValidator } from './spec-validator';

const spec = {
  paths: {
    '/v1/things': {
      post: {
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                additionalProperties: false,
                properties: {
                  amount: { type: 'integer' },
                  metadata: {
                    anyOf: [
                      { type: 'object', additionalProperties: { type: 'string' } },
                      { enum: [''], type: 'string' },
                    ],
                  },
                  transfer_data: { type: 'object', properties: { destination: { type: 'string' } } },
                  items: {
                    type: 'array',
                    items: { type: 'object', properties: { price: { type: 'string' } } },
                  },
                },
                type: 'object',
              },
            },
          },
        },
      },
      get: { parameters: [{ in: 'query', name: 'limit', schema: { type: 'integer' } }] },
    },
    '/v1/things/{id}': { get: { parameters: [{ in: 'path', name: 'id', schema: { type: 'string' } }] } },
    '/v1/accounts': {
      post: {
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: { additionalProperties: false, properties: { type: { type: 'string' } } },
            },
          },
        },
      },
    },
  },
};

function unknownOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    const body = (e as StripeApiError).body as { error: { code: string; param: string } };
    expect(body.error.code).toBe('parameter_unknown');
    return body.error.param;
  }
}

describe('SpecValidator', () => {
  const v = new SpecValidator(spec);

  it('accepts known parameters, free-form metadata and array items', () => {
    expect(
      unknownOf(() =>
        v.validate('POST', '/v1/things', {
          amount: '1',
          metadata: { any: 'x' },
          items: [{ price: 'p' }],
          transfer_data: { destination: 'a' },
        }),
      ),
    ).toBeNull();
    expect(unknownOf(() => v.validate('POST', '/v1/things', { metadata: '' }))).toBeNull();
  });

  it('names the first unknown key, top-level or nested, like Stripe', () => {
    expect(unknownOf(() => v.validate('POST', '/v1/things', { foo: 'x' }))).toBe('foo');
    expect(unknownOf(() => v.validate('POST', '/v1/things', { transfer_data: { bogus: '1' } }))).toBe(
      'transfer_data[bogus]',
    );
    expect(
      unknownOf(() => v.validate('POST', '/v1/things', { items: [{ price: 'p' }, { nope: '1' }] })),
    ).toBe('items[1][nope]');
    expect(unknownOf(() => v.validate('GET', '/v1/things', { limit: '3', extra: '1' }))).toBe('extra');
    expect(unknownOf(() => v.validate('GET', '/v1/things/abc', { x: '1' }))).toBe('x');
  });

  it('skips paths the description does not know and honours the listed exceptions', () => {
    expect(unknownOf(() => v.validate('POST', '/oauth/token', { anything: '1' }))).toBeNull();
    expect(
      unknownOf(() =>
        v.validate('POST', '/v1/accounts', {
          type: 'express',
          controller: { fees: { payer: 'application' } },
        }),
      ),
    ).toBeNull();
    expect(unknownOf(() => v.validate('POST', '/v1/accounts', { controller: {}, other: '1' }))).toBe('other');
  });

  it("loads Stripe's real description when present", () => {
    const path = defaultSpecPath();
    if (!path) return; // the shared folder is optional; the e2e suite covers the real file when it is there
    const real = SpecValidator.fromFile(path);
    expect(
      unknownOf(() => real.validate('POST', '/v1/payment_intents', { amount: '1', currency: 'usd' })),
    ).toBeNull();
    expect(unknownOf(() => real.validate('POST', '/v1/payment_intents', { amount: '1', foo: '1' }))).toBe(
      'foo',
    );
    expect(real.match('GET', '/v1/payment_intents/search')).not.toBeNull();
  });
});

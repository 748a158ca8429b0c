import { StripeApiError } from './errors';
import { buildParamTable } from './generate-param-table';
import { committedSpecValidator, SpecValidator } from './spec-validator';

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

const routes = [
  { method: 'POST', url: '/v1/things' },
  { method: 'GET', url: '/v1/things' },
  { method: 'HEAD', url: '/v1/things' },
  { method: 'GET', url: '/v1/things/:id' },
  { method: 'POST', url: '/v1/accounts' },
  { method: 'POST', url: '/oauth/token' },
  { method: 'POST', url: '/_emulator/reset' },
];

describe('buildParamTable', () => {
  it('lists bracket keys per route: nested, array items, free-form; skips control, HEAD and OAuth', () => {
    expect(buildParamTable(spec, routes).operations).toEqual({
      'GET /v1/things': ['limit'],
      'GET /v1/things/{id}': [],
      'POST /v1/accounts': ['type'],
      'POST /v1/things': [
        'amount',
        'items[][price]',
        'metadata',
        'metadata[*]',
        'transfer_data[destination]',
      ],
    });
  });

  it('refuses a route the description does not have, naming where to list it', () => {
    expect(() => buildParamTable(spec, [{ method: 'POST', url: '/v1/unknown' }])).toThrow(
      /POST \/v1\/unknown.*UNDESCRIBED_ROUTES/,
    );
  });
});

describe('SpecValidator', () => {
  const v = new SpecValidator(buildParamTable(spec, routes));
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

  it('checks below a scalar and accepts an empty value where an object is expected', () => {
    expect(unknownOf(() => v.validate('POST', '/v1/things', { amount: { x: '1' } }))).toBe('amount[x]');
    expect(unknownOf(() => v.validate('POST', '/v1/things', { transfer_data: '' }))).toBeNull();
    expect(unknownOf(() => v.validate('POST', '/v1/things', { items: { 0: { price: 'p' } } }))).toBeNull();
  });

  it('validates with the committed table alone', () => {
    const real = committedSpecValidator();
    expect(
      unknownOf(() => real.validate('POST', '/v1/payment_intents', { amount: '1', currency: 'usd' })),
    ).toBeNull();
    expect(unknownOf(() => real.validate('POST', '/v1/payment_intents', { amount: '1', foo: '1' }))).toBe(
      'foo',
    );
    expect(
      unknownOf(() =>
        real.validate('POST', '/v1/payment_intents/pi_1/confirm', { payment_method_options: { nope: {} } }),
      ),
    ).toBe('payment_method_options[nope]');
  });
});

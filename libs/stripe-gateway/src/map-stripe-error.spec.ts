import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import { mapStripeError, outcomeOf, scrubSecrets } from './map-stripe-error';

const KEY = 'sk_test_51SecretKeyThatMustNeverLeak';

type Raw = Parameters<typeof Stripe.errors.generateV1Error>[0];
const v1 = (raw: Raw): Stripe.errors.StripeError =>
  Stripe.errors.generateV1Error({ requestId: 'req_123', headers: {}, ...raw });

describe('mapStripeError', () => {
  const table: Array<[string, unknown, string, number, Record<string, unknown> | undefined]> = [
    [
      'card decline',
      v1({
        type: 'card_error',
        statusCode: 402,
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
      }),
      ErrorCode.CardDeclined,
      402,
      {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        request_id: 'req_123',
        status: 402,
      },
    ],
    [
      'invalid request (missing param)',
      v1({
        type: 'invalid_request_error',
        statusCode: 400,
        code: 'parameter_missing',
        param: 'amount',
        message: 'Missing required param: amount.',
      }),
      ErrorCode.StripeRequestFailed,
      502,
      {
        type: 'invalid_request_error',
        code: 'parameter_missing',
        param: 'amount',
        request_id: 'req_123',
        status: 400,
      },
    ],
    [
      'resource missing (404)',
      v1({
        type: 'invalid_request_error',
        statusCode: 404,
        code: 'resource_missing',
        message: "No such payment_intent: 'pi_1'",
      }),
      ErrorCode.StripeRequestFailed,
      502,
      { type: 'invalid_request_error', code: 'resource_missing', request_id: 'req_123', status: 404 },
    ],
    [
      'idempotency_error keeps its type',
      v1({
        type: 'idempotency_error',
        statusCode: 400,
        message: 'Keys for idempotent requests can only be used with the same parameters',
      }),
      ErrorCode.StripeRequestFailed,
      502,
      { type: 'idempotency_error', request_id: 'req_123', status: 400 },
    ],
    [
      'rate limited (429)',
      v1({ type: 'rate_limit_error', statusCode: 429, message: 'Too many requests' }),
      ErrorCode.StripeUnavailable,
      503,
      { type: 'rate_limit_error', request_id: 'req_123', status: 429 },
    ],
    [
      'idempotency key in use (409)',
      v1({
        type: 'invalid_request_error',
        statusCode: 409,
        code: 'idempotency_key_in_use',
        message: 'in use',
      }),
      ErrorCode.StripeUnavailable,
      503,
      { type: 'invalid_request_error', code: 'idempotency_key_in_use', request_id: 'req_123', status: 409 },
    ],
    [
      'server error (500)',
      v1({ type: 'api_error', statusCode: 500, message: 'boom' }),
      ErrorCode.StripeUnavailable,
      503,
      { type: 'api_error', request_id: 'req_123', status: 500 },
    ],
    [
      'connection error',
      new Stripe.errors.StripeConnectionError({
        message: 'An error occurred with our connection to Stripe.',
      }),
      ErrorCode.StripeUnavailable,
      503,
      {},
    ],
    [
      'OAuth invalid_grant',
      Stripe.errors.generateOAuthError({
        type: 'invalid_grant',
        message: 'This authorization code has already been used',
        statusCode: 400,
      }),
      ErrorCode.OAuthFailed,
      400,
      { type: 'invalid_grant', status: 400 },
    ],
    [
      'authentication (our key)',
      v1({ type: 'invalid_request_error', statusCode: 401, message: `Invalid API Key provided: ${KEY}` }),
      ErrorCode.StripeRequestFailed,
      502,
      { type: 'invalid_request_error', request_id: 'req_123', status: 401 },
    ],
    [
      'permission (our key)',
      v1({
        type: 'invalid_request_error',
        statusCode: 403,
        message: `The provided key '${KEY}' does not have access`,
      }),
      ErrorCode.StripeRequestFailed,
      502,
      { type: 'invalid_request_error', request_id: 'req_123', status: 403 },
    ],
    ['breaker open', new BrokenCircuitError(), ErrorCode.StripeUnavailable, 503, undefined],
    ['bulkhead full', new BulkheadRejectedError(50, 10), ErrorCode.StripeUnavailable, 503, undefined],
    ['our timeout', new TaskCancelledError(), ErrorCode.StripeUnavailable, 503, undefined],
  ];

  it.each(table)('%s → %s', (_name, err, code, status, stripe) => {
    const mapped = mapStripeError(err, KEY);
    expect(mapped).toBeInstanceOf(ServiceException);
    expect(mapped?.code).toBe(code);
    expect(mapped?.httpStatus).toBe(status);
    if (stripe === undefined) expect(mapped?.details).toBeUndefined();
    else expect(mapped?.details).toEqual({ stripe });
    const serialised = JSON.stringify(mapped?.toBody());
    expect(serialised).not.toContain(KEY);
    expect(serialised).not.toMatch(/sk_(test|live)_/);
  });

  it('says "Stripe unavailable" when the breaker is open', () => {
    expect(mapStripeError(new BrokenCircuitError())?.message).toMatch(/^Stripe unavailable/);
  });

  it('keeps the PaymentIntent id of a card error so the caller can record it', () => {
    const err = v1({
      type: 'card_error',
      statusCode: 402,
      code: 'card_declined',
      payment_intent: { id: 'pi_123' } as Stripe.PaymentIntent,
    });
    expect(mapStripeError(err)?.details).toMatchObject({ stripe: { payment_intent: 'pi_123' } });
  });

  it('leaves non-Stripe errors to the caller (they are bugs, logged with an error_id)', () => {
    expect(mapStripeError(new TypeError('x'))).toBeNull();
    expect(mapStripeError('weird')).toBeNull();
  });

  it('passes a ServiceException through', () => {
    const e = new ServiceException(ErrorCode.WebhookInvalid, 'bad');
    expect(mapStripeError(e)).toBe(e);
  });
});

describe('scrubSecrets', () => {
  it('removes the configured key and anything key-shaped', () => {
    expect(scrubSecrets(`a ${KEY} b rk_live_abc123 c sk_test_****1234`, KEY)).toBe(
      'a [redacted] b [redacted] c [redacted]',
    );
  });
});

describe('outcomeOf', () => {
  it.each([
    [v1({ type: 'card_error', statusCode: 402 }), 'card_error'],
    [v1({ type: 'api_error', statusCode: 503 }), 'server_error'],
    [v1({ type: 'rate_limit_error', statusCode: 429 }), 'rate_limited'],
    [v1({ type: 'invalid_request_error', statusCode: 400 }), 'invalid_request'],
    [new BrokenCircuitError(), 'circuit_open'],
    [new TaskCancelledError(), 'timeout'],
    [new Error('x'), 'error'],
  ])('%# → %s', (err, outcome) => expect(outcomeOf(err)).toBe(outcome));
});

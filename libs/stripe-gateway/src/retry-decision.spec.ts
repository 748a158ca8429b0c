import { ExponentialBackoff, IRetryBackoffContext, TaskCancelledError } from 'cockatiel';
import Stripe from 'stripe';
import {
  isInfrastructureFailure,
  isRetryableFailure,
  retryAfterAwareBackoff,
  retryAfterMs,
} from './retry-decision';

type Raw = Parameters<typeof Stripe.errors.generateV1Error>[0];
const v1 = (raw: Raw, headers: Record<string, string> = {}): Stripe.errors.StripeError =>
  Stripe.errors.generateV1Error({ message: 'm', headers, ...raw });
const connection = (code?: string): Stripe.errors.StripeError =>
  new Stripe.errors.StripeConnectionError({
    message: 'conn',
    detail: Object.assign(new Error(code ?? 'x'), { code }),
  });

describe('isRetryableFailure', () => {
  const idempotent: Array<[string, unknown, boolean]> = [
    ['500', v1({ type: 'api_error', statusCode: 500 }), true],
    ['503', v1({ type: 'api_error', statusCode: 503 }), true],
    [
      '500 with Stripe-Should-Retry: false',
      v1({ type: 'api_error', statusCode: 500 }, { 'stripe-should-retry': 'false' }),
      false,
    ],
    ['429', v1({ type: 'rate_limit_error', statusCode: 429 }), true],
    [
      '429 with Stripe-Should-Retry: false',
      v1({ type: 'rate_limit_error', statusCode: 429 }, { 'stripe-should-retry': 'false' }),
      false,
    ],
    [
      '409 key in use',
      v1({ type: 'invalid_request_error', statusCode: 409, code: 'idempotency_key_in_use' }),
      true,
    ],
    ['400 idempotency_error', v1({ type: 'idempotency_error', statusCode: 400 }), false],
    ['400 invalid request', v1({ type: 'invalid_request_error', statusCode: 400 }), false],
    [
      '400 with Stripe-Should-Retry: true',
      v1({ type: 'invalid_request_error', statusCode: 400 }, { 'stripe-should-retry': 'true' }),
      true,
    ],
    ['402 card error', v1({ type: 'card_error', statusCode: 402 }), false],
    ['401 authentication', v1({ type: 'invalid_request_error', statusCode: 401 }), false],
    ['connection reset', connection('ECONNRESET'), true],
    ['SDK timeout', connection('ETIMEDOUT'), true],
    ['our timeout', new TaskCancelledError(), true],
    ['a bug', new TypeError('x'), false],
  ];
  it.each(idempotent)('idempotent call, %s → %s', (_n, err, expected) => {
    expect(isRetryableFailure(err, 'idempotent')).toBe(expected);
  });

  const unsafe: Array<[string, unknown, boolean]> = [
    ['429 (never recorded by Stripe)', v1({ type: 'rate_limit_error', statusCode: 429 }), true],
    [
      '429 with Stripe-Should-Retry: false',
      v1({ type: 'rate_limit_error', statusCode: 429 }, { 'stripe-should-retry': 'false' }),
      false,
    ],
    ['connection refused (never reached Stripe)', connection('ECONNREFUSED'), true],
    ['connection reset (may have been processed)', connection('ECONNRESET'), false],
    ['500 (may have been processed)', v1({ type: 'api_error', statusCode: 500 }), false],
    ['our timeout (may have been processed)', new TaskCancelledError(), false],
  ];
  it.each(unsafe)('unsafe call (OAuth code), %s → %s', (_n, err, expected) => {
    expect(isRetryableFailure(err, 'unsafe')).toBe(expected);
  });
});

describe('isInfrastructureFailure (what the breaker counts)', () => {
  it.each([
    [v1({ type: 'api_error', statusCode: 500 }), true],
    [connection('ECONNRESET'), true],
    [new TaskCancelledError(), true],
    [v1({ type: 'rate_limit_error', statusCode: 429 }), false],
    [v1({ type: 'card_error', statusCode: 402 }), false],
    [v1({ type: 'invalid_request_error', statusCode: 400 }), false],
    [v1({ type: 'invalid_request_error', statusCode: 409 }), false],
  ])('%# → %s', (err, expected) => expect(isInfrastructureFailure(err)).toBe(expected));
});

describe('retryAfterMs', () => {
  it('reads seconds and caps them', () => {
    expect(
      retryAfterMs(v1({ type: 'rate_limit_error', statusCode: 429 }, { 'retry-after': '2' }), 10_000),
    ).toBe(2000);
    expect(
      retryAfterMs(v1({ type: 'rate_limit_error', statusCode: 429 }, { 'retry-after': '120' }), 10_000),
    ).toBe(10_000);
  });
  it('is 0 without the header, with garbage, or for non-Stripe errors', () => {
    expect(retryAfterMs(v1({ type: 'rate_limit_error', statusCode: 429 }), 10_000)).toBe(0);
    expect(
      retryAfterMs(v1({ type: 'rate_limit_error', statusCode: 429 }, { 'retry-after': 'soon' }), 10_000),
    ).toBe(0);
    expect(retryAfterMs(new Error('x'), 10_000)).toBe(0);
  });
});

describe('retryAfterAwareBackoff', () => {
  const ctx = (error: Error, attempt = 1): IRetryBackoffContext<unknown> => ({
    attempt,
    result: { error },
    signal: new AbortController().signal,
  });

  const durations = (initialDelay: number, maxDelay: number, attempts: number): number[] => {
    const factory = retryAfterAwareBackoff(new ExponentialBackoff({ initialDelay, maxDelay }), 5000);
    const err = v1({ type: 'api_error', statusCode: 500 });
    let backoff = factory.next(ctx(err));
    const out = [backoff.duration];
    for (let i = 2; i <= attempts; i++) {
      backoff = backoff.next(ctx(err, i));
      out.push(backoff.duration);
    }
    return out;
  };

  it('grows exponentially: six jittered delays add up to well over 2^4 initial delays', () => {
    // Decorrelated jitter's delays telescope to ~2^attempts * initialDelay whatever the random draws.
    const sum = durations(100, 1_000_000, 6).reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(16 * 100);
  });

  it('never exceeds the cap', () => {
    for (const d of durations(100, 1000, 10)) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('waits at least what Retry-After asks, capped', () => {
    const factory = retryAfterAwareBackoff(new ExponentialBackoff({ initialDelay: 10, maxDelay: 50 }), 3000);
    const first = factory.next(
      ctx(v1({ type: 'rate_limit_error', statusCode: 429 }, { 'retry-after': '1' })),
    );
    expect(first.duration).toBeGreaterThanOrEqual(1000);
    const second = first.next(
      ctx(v1({ type: 'rate_limit_error', statusCode: 429 }, { 'retry-after': '60' }), 2),
    );
    expect(second.duration).toBe(3000);
    const third = second.next(ctx(v1({ type: 'api_error', statusCode: 500 }), 3));
    expect(third.duration).toBeLessThanOrEqual(50);
  });
});

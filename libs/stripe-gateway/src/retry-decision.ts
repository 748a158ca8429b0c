import { IBackoff, IBackoffFactory, IRetryBackoffContext, TaskCancelledError } from 'cockatiel';
import Stripe from 'stripe';
import { isStripeError } from './map-stripe-error';

/**
 * `idempotent`: the call carries an idempotency key (or is a read), so repeating it can never do the work
 * twice. `unsafe`: repeating it after Stripe may have processed it does harm (an OAuth code is single use and
 * reusing it revokes the grant: https://docs.stripe.com/connect/oauth-reference#post-token), so only retry
 * when Stripe provably did nothing.
 */
export type RetryMode = 'idempotent' | 'unsafe';

/** Stripe does not record rate-limited requests, and a refused connection never reached it. */
const NOT_PROCESSED_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function header(err: Stripe.errors.StripeError, name: string): string | undefined {
  const value = err.headers?.[name] ?? err.headers?.[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

function connectionCode(err: Stripe.errors.StripeError): string | undefined {
  const detail = err.detail as { code?: unknown } | undefined;
  return detail && typeof detail.code === 'string' ? detail.code : undefined;
}

/**
 * Whether a failed attempt is worth repeating (with the same idempotency key).
 * Follows Stripe's advice (https://docs.stripe.com/error-low-level#idempotency and the SDK's own
 * `_shouldRetry`): `Stripe-Should-Retry` wins when present; otherwise 429, 409, 5xx, connection errors and
 * timeouts are retried. Unlike the SDK we also retry 429 (the SDK retries a 429 only with Stripe-Should-Retry: https://docs.stripe.com/rate-limits).
 */
export function isRetryableFailure(err: unknown, mode: RetryMode = 'idempotent'): boolean {
  if (err instanceof TaskCancelledError) return mode === 'idempotent';
  if (!isStripeError(err)) return false;
  const shouldRetry = header(err, 'stripe-should-retry');
  if (shouldRetry === 'false') return false;
  const status = err.statusCode;

  if (mode === 'unsafe') {
    if (status === 429) return true;
    return (
      err instanceof Stripe.errors.StripeConnectionError &&
      NOT_PROCESSED_CONNECTION_CODES.has(connectionCode(err) ?? '')
    );
  }

  if (shouldRetry === 'true') return true;
  if (err instanceof Stripe.errors.StripeConnectionError) return true;
  if (status === undefined) return false;
  if (status === 429 || status >= 500) return true;
  // 409 is a concurrent request with the same key (or a lock): it settles, so ask again later. An
  // idempotency_error (same key, other parameters) is a 400 and never retried.
  if (status === 409) return err.rawType !== 'idempotency_error';
  return false;
}

/**
 * Failures that say Stripe (or the path to it) is unhealthy: the only ones the circuit breaker counts.
 * Client errors (4xx, card declines) prove Stripe is up. 429 is back-pressure handled by retries and
 * Retry-After, not an outage.
 */
export function isInfrastructureFailure(err: unknown): boolean {
  if (err instanceof TaskCancelledError) return true;
  if (!isStripeError(err)) return false;
  if (err instanceof Stripe.errors.StripeConnectionError) return true;
  return (err.statusCode ?? 0) >= 500;
}

/** `Retry-After` (seconds, as Stripe sends it) in ms, capped; 0 when absent or unparsable. */
export function retryAfterMs(err: unknown, capMs: number): number {
  if (!isStripeError(err)) return 0;
  const value = header(err, 'retry-after');
  if (value === undefined) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds * 1000, capMs);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.min(Math.max(date - Date.now(), 0), capMs);
}

/**
 * Wraps cockatiel's exponential backoff (with its decorrelated jitter) so a delay is never shorter than what
 * the failed answer's `Retry-After` asks for.
 */
export function retryAfterAwareBackoff(
  inner: IBackoffFactory<unknown>,
  maxRetryAfterMs: number,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const wrap = (
    backoff: IBackoff<unknown>,
    context: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => {
    const asked = 'error' in context.result ? retryAfterMs(context.result.error, maxRetryAfterMs) : 0;
    return {
      duration: Math.max(backoff.duration, asked),
      next: (nextContext) => wrap(backoff.next(nextContext), nextContext),
    };
  };
  return { next: (context) => wrap(inner.next(context), context) };
}

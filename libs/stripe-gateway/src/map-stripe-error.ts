import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  TaskCancelledError,
} from 'cockatiel';
import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';

type StripeSdkError = Stripe.errors.StripeError;

/** What a caller can learn about Stripe's answer: enough to act on, nothing secret. */
export interface StripeErrorDetails {
  type?: string;
  code?: string;
  decline_code?: string;
  param?: string;
  request_id?: string;
  status?: number;
  payment_intent?: string;
  /** The PaymentIntent's status when Stripe made one and then refused it (a decline, a failed confirmation). */
  payment_intent_status?: string;
}

const KEY_PATTERN = /\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9*]+/g;

/** Removes anything that looks like an API key (and the configured key itself) from a message. */
export function scrubSecrets(text: string, secretKey?: string): string {
  let out = text;
  if (secretKey) out = out.split(secretKey).join('[redacted]');
  return out.replace(KEY_PATTERN, '[redacted]');
}

export function isStripeError(err: unknown): err is StripeSdkError {
  return err instanceof Stripe.errors.StripeError;
}

/** `details.stripe` of a ServiceException, with undefined fields left out. */
export function stripeErrorDetails(err: StripeSdkError): StripeErrorDetails {
  const details: StripeErrorDetails = {
    // `err.type` is the SDK's class name; the API's own type is `rawType` (https://docs.stripe.com/error-handling).
    type: err.rawType ?? undefined,
    code: err.code ?? undefined,
    decline_code: err.decline_code ?? undefined,
    param: err.param ?? undefined,
    request_id: err.requestId ?? undefined,
    status: err.statusCode ?? undefined,
    payment_intent: err.payment_intent?.id ?? undefined,
    payment_intent_status: err.payment_intent?.status ?? undefined,
  };
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as StripeErrorDetails;
}

// No `cause` is attached: the SDK error holds raw response data we would rather not carry into logs.
const unavailable = (message: string, stripe?: StripeErrorDetails): ServiceException =>
  new ServiceException(ErrorCode.StripeUnavailable, message, stripe ? { stripe } : undefined);

/**
 * Maps what a Stripe call threw to the service's error. Returns null for errors that are neither Stripe's nor
 * the resilience policies' (programming errors): the caller rethrows those as they are, so the exception
 * filter logs them with an error_id. Messages never echo the secret key.
 *
 * Codes: card errors → CardDeclined (402); 429 / 409 / 5xx / connection / timeout (after retries), breaker open,
 * bulkhead full → StripeUnavailable (503); OAuth errors → OAuthFailed; our own credentials refused and every other
 * 4xx (idempotency_error included, its `type` kept) → StripeRequestFailed (502).
 * https://docs.stripe.com/error-handling and https://docs.stripe.com/error-codes
 */
export function mapStripeError(err: unknown, secretKey?: string): ServiceException | null {
  if (err instanceof ServiceException) return err;
  if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
    return unavailable('Stripe unavailable (circuit open); retry later');
  }
  if (err instanceof BulkheadRejectedError) {
    return unavailable('Stripe unavailable (too many concurrent Stripe calls); retry later');
  }
  if (err instanceof TaskCancelledError) {
    return unavailable('Stripe unavailable (request timed out); retry later');
  }
  if (!isStripeError(err)) return null;

  const stripe = stripeErrorDetails(err);
  const message = scrubSecrets(err.message ?? '', secretKey);

  if (err instanceof Stripe.errors.StripeOAuthError) {
    return new ServiceException(
      ErrorCode.OAuthFailed,
      `Stripe OAuth failed: ${stripe.type ?? 'error'}: ${message}`,
      {
        stripe,
      },
    );
  }
  if (err instanceof Stripe.errors.StripeCardError) {
    return new ServiceException(ErrorCode.CardDeclined, message || 'The card was declined', { stripe });
  }
  if (err instanceof Stripe.errors.StripeAuthenticationError) {
    // Stripe's message names the (masked) key: say nothing of it.
    return new ServiceException(
      ErrorCode.StripeRequestFailed,
      "Stripe refused the platform's API credentials",
      { stripe },
    );
  }
  if (err instanceof Stripe.errors.StripePermissionError) {
    return new ServiceException(
      ErrorCode.StripeRequestFailed,
      "The platform's API key is not allowed to make this Stripe request",
      {
        stripe,
      },
    );
  }
  if (err instanceof Stripe.errors.StripeConnectionError) {
    return unavailable('Stripe unavailable (no response); retry later', stripe);
  }
  const status = err.statusCode;
  if (status === 429) return unavailable('Stripe unavailable (rate limited); retry later', stripe);
  if (status === 409)
    return unavailable('Stripe unavailable (conflicting concurrent request); retry later', stripe);
  if (status !== undefined && status >= 500) return unavailable('Stripe unavailable; retry later', stripe);
  return new ServiceException(ErrorCode.StripeRequestFailed, `Stripe rejected the request: ${message}`, {
    stripe,
  });
}

/** A short label for the `outcome` metric. */
export function outcomeOf(err: unknown): string {
  if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) return 'circuit_open';
  if (err instanceof BulkheadRejectedError) return 'bulkhead_full';
  if (err instanceof TaskCancelledError) return 'timeout';
  if (!isStripeError(err)) return 'error';
  if (err instanceof Stripe.errors.StripeOAuthError) return 'oauth_error';
  if (err instanceof Stripe.errors.StripeCardError) return 'card_error';
  if (err instanceof Stripe.errors.StripeConnectionError) return 'connection_error';
  if (
    err instanceof Stripe.errors.StripeAuthenticationError ||
    err instanceof Stripe.errors.StripePermissionError
  ) {
    return 'auth_error';
  }
  const status = err.statusCode ?? 0;
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status === 409) return 'conflict';
  return 'invalid_request';
}

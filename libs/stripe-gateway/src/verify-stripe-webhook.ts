import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import type { StripeEvent } from './stripe-gateway.types';

export type WebhookRejectionReason =
  | 'missing_signature'
  | 'malformed'
  | 'no_matching_signature'
  | 'timestamp_out_of_tolerance'
  | 'no_secret_configured';

function reject(reason: WebhookRejectionReason, message: string): ServiceException {
  return new ServiceException(ErrorCode.WebhookInvalid, message, { reason });
}

function reasonOf(err: Stripe.errors.StripeError): WebhookRejectionReason {
  const message = err.message ?? '';
  if (/timestamp outside the tolerance/i.test(message)) return 'timestamp_out_of_tolerance';
  if (/no signatures found matching/i.test(message)) return 'no_matching_signature';
  return 'malformed';
}

/**
 * Verifies a `Stripe-Signature` header with the SDK's `constructEvent` against each secret in turn: during a
 * rotation Stripe signs with both the old and the new secret, and we may hold either
 * (https://docs.stripe.com/webhooks#roll-endpoint-secrets). The body must be the exact raw bytes.
 * A correct signature that is too old is reported as such even if other secrets do not match, since that is
 * the actionable reason (a replay or a clock problem).
 */
export function verifyStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: string[],
  toleranceSeconds = 300,
): StripeEvent {
  if (!signatureHeader || signatureHeader.trim() === '') {
    throw reject('missing_signature', 'Missing Stripe-Signature header');
  }
  const usable = secrets.filter((s) => s.trim() !== '');
  if (usable.length === 0) throw reject('no_secret_configured', 'No webhook secret is configured');

  let best: WebhookRejectionReason = 'no_matching_signature';
  for (const secret of usable) {
    try {
      return Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, toleranceSeconds);
    } catch (err) {
      // The signature matched but the body is not JSON: nothing Stripe would send.
      if (err instanceof SyntaxError) throw reject('malformed', 'The webhook body is not JSON');
      if (!(err instanceof Stripe.errors.StripeError)) throw err;
      const reason = reasonOf(err);
      // A header that cannot be parsed is malformed whatever the secret.
      if (reason === 'malformed') throw reject('malformed', 'Malformed Stripe-Signature header');
      if (reason === 'timestamp_out_of_tolerance') best = reason;
    }
  }
  throw best === 'timestamp_out_of_tolerance'
    ? reject(best, 'Stripe-Signature timestamp is outside the tolerance window')
    : reject(best, 'No Stripe-Signature matches a configured webhook secret');
}

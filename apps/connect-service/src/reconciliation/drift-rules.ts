import { DriftCategory, DriftItemStatus, PaymentRouteStatus } from '@app/database';
import { routeStatusForRefund } from '../payments/refund-status';

/**
 * The route statuses consistent with a PaymentIntent status. A declined first attempt leaves the PaymentIntent
 * in `requires_payment_method` and our route `failed`; an unconfirmed one leaves both waiting.
 * https://docs.stripe.com/payments/paymentintents/lifecycle
 */
export function routeStatusesForIntent(piStatus: string): PaymentRouteStatus[] {
  switch (piStatus) {
    case 'succeeded':
      return [PaymentRouteStatus.Completed];
    case 'canceled':
      return [PaymentRouteStatus.Canceled, PaymentRouteStatus.Failed];
    case 'requires_payment_method':
      return [PaymentRouteStatus.Failed, PaymentRouteStatus.Pending, PaymentRouteStatus.Canceled];
    case 'processing':
      return [PaymentRouteStatus.Processing, PaymentRouteStatus.Pending];
    case 'requires_action':
      return [PaymentRouteStatus.RequiresAction, PaymentRouteStatus.Pending];
    default:
      return [PaymentRouteStatus.Pending];
  }
}

const OPEN_ROUTE = [
  PaymentRouteStatus.Pending,
  PaymentRouteStatus.RequiresAction,
  PaymentRouteStatus.Processing,
];

/**
 * The webhook a still-open route missed, when the PaymentIntent reached an outcome: replaying it through the
 * webhook handler is the one safe heal (status only moves forward). Null when the difference needs a person.
 */
export function missedIntentEvent(
  routeStatus: PaymentRouteStatus,
  pi: { status: string; last_payment_error?: unknown },
): 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.canceled' | null {
  if (!OPEN_ROUTE.includes(routeStatus)) return null;
  if (pi.status === 'succeeded') return 'payment_intent.succeeded';
  if (pi.status === 'canceled') return 'payment_intent.canceled';
  if (pi.status === 'requires_payment_method' && pi.last_payment_error)
    return 'payment_intent.payment_failed';
  return null;
}

/** A refund route still pending whose Refund reached an outcome: healed by the refund webhook's own path. */
export function refundHealable(routeStatus: PaymentRouteStatus, refundStatus: string | null): boolean {
  return routeStatus === PaymentRouteStatus.Pending && routeStatusForRefund(refundStatus) !== routeStatus;
}

/** A subscription's status as a route status (active and trialing subscriptions are `completed` routes). */
export function routeStatusForSubscription(status: string): PaymentRouteStatus {
  if (status === 'active' || status === 'trialing' || status === 'past_due')
    return PaymentRouteStatus.Completed;
  if (status === 'canceled' || status === 'incomplete_expired') return PaymentRouteStatus.Canceled;
  return PaymentRouteStatus.Pending;
}

/**
 * Destination charges: Stripe transfers the whole amount and takes the application fee back; a transfer of the
 * amount net of the fee (transfer_data[amount], or an emulator that nets it) is the same money.
 * https://docs.stripe.com/connect/destination-charges#application-fee
 */
export function destinationTransferMatches(transferAmount: number, amount: number, fee: number): boolean {
  return transferAmount === amount || transferAmount === amount - fee;
}

/** The identity that makes the same difference the same item in every run (the unique key with tenant and scope). */
export function itemIdentity(
  category: DriftCategory,
  routeId: string | null,
  objectId: string | null,
): string {
  return `${category}|${routeId ?? '-'}|${objectId ?? '-'}`;
}

/**
 * Inside the grace window a difference is `expected` (a webhook may not have arrived); after it, `mismatched`.
 * `newest` is the later of the two sides' timestamps.
 */
export function driftStatus(newest: Date, now: Date, graceSeconds: number): DriftItemStatus {
  return now.getTime() - newest.getTime() < graceSeconds * 1000
    ? DriftItemStatus.Expected
    : DriftItemStatus.Mismatched;
}

/** Evenly spaced Stripe calls: at most `rps` per second for everything sharing this limiter. */
export class RequestPacer {
  private next = 0;

  constructor(
    private readonly rps: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Milliseconds the caller must wait before its call; reserves the slot. */
  reserve(): number {
    const now = this.clock();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.rps;
    return at - now;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

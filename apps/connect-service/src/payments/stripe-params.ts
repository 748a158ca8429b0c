import { ChargeType, PaymentRouteEntity, PaymentRouteStatus } from '@app/database';
import type {
  StripePaymentIntent,
  StripePaymentIntentCreateParams,
  StripeRefundCreateParams,
} from '@app/stripe-gateway';
import type { CreateRefundDto, PaymentDataDto } from './dto/payment.dto';

export { RESOLVE_OUTCOME_QUEUE as RECONCILE_QUEUE } from './payments.queues';

/** What the reconcile job needs to repeat the exact create: the request's own input, not Stripe's params. */
export interface ReconcileJob {
  routeId: string;
  input: PaymentDataDto;
  /** Direct charges: the connected account the PaymentIntent lives on. */
  stripeAccount?: string;
  /** Destination charges: the connected account that receives the transfer. */
  destination?: string;
  /** Separate charges (splits): the transfer group the platform charge carries. */
  transferGroup?: string;
}

/** The reconcile job of a refund whose outcome was unknown. */
export interface RefundReconcileJob {
  kind: 'refund';
  routeId: string;
  input: Pick<CreateRefundDto, 'reason' | 'refund_application_fee' | 'reverse_transfer' | 'metadata'>;
}

export const isRefundJob = (job: ReconcileJob | RefundReconcileJob): job is RefundReconcileJob =>
  'kind' in job && job.kind === 'refund';

export const sortedRecord = (r: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Refund parameters in one fixed order (see paymentIntentParams for why). Defaults by charge type:
 * https://docs.stripe.com/connect/direct-charges#issue-refunds and
 * https://docs.stripe.com/connect/destination-charges#issue-refunds
 */
export function refundParams(route: PaymentRouteEntity, job: RefundReconcileJob): StripeRefundCreateParams {
  const d = job.input;
  const params: StripeRefundCreateParams = {
    payment_intent: route.stripe_payment_intent_id!,
    amount: route.amount,
  };
  if (d.reason) params.reason = d.reason;
  if (route.charge_type === ChargeType.Direct)
    params.refund_application_fee = d.refund_application_fee ?? true;
  else if (route.charge_type === ChargeType.Destination) {
    params.reverse_transfer = d.reverse_transfer ?? true;
    if (d.refund_application_fee !== undefined) params.refund_application_fee = d.refund_application_fee;
  }
  // Separate charges: the refund touches the platform charge only; the transfers are reversed afterwards
  // (https://docs.stripe.com/connect/separate-charges-and-transfers#issue-refunds).
  params.metadata = sortedRecord({
    ...(d.metadata ?? {}),
    tenant_id: route.tenant_id,
    payment_route_id: route.id,
    parent_payment_route_id: route.parent_id ?? '',
  });
  return params;
}

/**
 * The PaymentIntent create parameters, built in one fixed order from the route and the request's input. The
 * reconcile job rebuilds them after a JSON round trip through the job table (jsonb reorders keys), and Stripe
 * refuses a replayed idempotency key whose parameters differ (https://docs.stripe.com/api/idempotent_requests).
 */
export function paymentIntentParams(
  route: PaymentRouteEntity,
  job: ReconcileJob,
): StripePaymentIntentCreateParams {
  const p = job.input;
  const params: StripePaymentIntentCreateParams = {
    amount: route.amount,
    currency: route.currency.trim(),
    // Separate charges keep the whole amount on the platform: the tenants' shares leave as transfers.
    ...(route.charge_type === ChargeType.Separate ? {} : { application_fee_amount: route.fee }),
    // The webhook intake resolves the tenant of platform-side events through this metadata.
    metadata: sortedRecord({ ...(p.metadata ?? {}), tenant_id: route.tenant_id, payment_route_id: route.id }),
  };
  if (p.payment_method) params.payment_method = p.payment_method;
  if (p.confirm !== undefined) params.confirm = p.confirm;
  else if (p.payment_method) params.confirm = true;
  if (p.customer) params.customer = p.customer;
  if (p.capture_method) params.capture_method = p.capture_method;
  if (p.description) params.description = p.description;
  if (p.statement_descriptor_suffix) params.statement_descriptor_suffix = p.statement_descriptor_suffix;
  // https://docs.stripe.com/connect/destination-charges: on the platform, money moves with transfer_data.
  if (job.destination) {
    params.transfer_data = { destination: job.destination };
    if (p.on_behalf_of) params.on_behalf_of = p.on_behalf_of;
  }
  // https://docs.stripe.com/connect/separate-charges-and-transfers: the charge and its transfers share a group.
  if (job.transferGroup) params.transfer_group = job.transferGroup;
  return params;
}

/** The route status a PaymentIntent status implies at creation; completion itself arrives by webhook. */
export function routeStatusOf(pi: StripePaymentIntent): PaymentRouteStatus {
  switch (pi.status) {
    case 'requires_action':
      return PaymentRouteStatus.RequiresAction;
    case 'processing':
      return PaymentRouteStatus.Processing;
    case 'canceled':
      return PaymentRouteStatus.Canceled;
    default:
      return PaymentRouteStatus.Pending;
  }
}

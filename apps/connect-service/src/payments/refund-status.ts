import { PaymentRouteStatus } from '@app/database';

/** The route status a Refund status implies. https://docs.stripe.com/api/refunds/object#refund_object-status */
export function routeStatusForRefund(refundStatus: string | null): PaymentRouteStatus {
  switch (refundStatus) {
    case 'succeeded':
      return PaymentRouteStatus.Completed;
    case 'failed':
      return PaymentRouteStatus.Failed;
    case 'canceled':
      return PaymentRouteStatus.Canceled;
    default:
      return PaymentRouteStatus.Pending;
  }
}

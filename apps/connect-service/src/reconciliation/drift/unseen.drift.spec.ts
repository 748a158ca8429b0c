import { DriftCategory, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { routeOf } from './drift-fixtures';
import { missingOnStripe, stripeIdOf, unseenRoute } from './unseen.drift';

describe('unseen routes', () => {
  it('re-reads a route that points at a Stripe object (undefined: ask Stripe)', () => {
    expect(unseenRoute(routeOf())).toBeUndefined();
    expect(stripeIdOf(routeOf())).toBe('pi_1');
    const refund = routeOf({ type: PaymentRouteType.Refund, stripe_object_id: 're_1' });
    expect(stripeIdOf(refund)).toBe('re_1');
  });

  it('calls an open route with no Stripe object missing, and a settled one (declined before Stripe) fine', () => {
    const open = routeOf({ stripe_payment_intent_id: null, status: PaymentRouteStatus.Pending });
    expect(unseenRoute(open)?.map((f) => [f.category, f.objectId])).toEqual([
      [DriftCategory.MissingStripe, null],
    ]);
    expect(
      unseenRoute(routeOf({ stripe_payment_intent_id: null, status: PaymentRouteStatus.Failed })),
    ).toEqual([]);
  });

  it('treats an unseen canceled subscription as no difference and any other as missing', () => {
    const sub = (status: PaymentRouteStatus) =>
      routeOf({ type: PaymentRouteType.Subscription, stripe_object_id: 'sub_1', status });
    expect(unseenRoute(sub(PaymentRouteStatus.Canceled))).toEqual([]);
    expect(unseenRoute(sub(PaymentRouteStatus.Completed))).toEqual([
      missingOnStripe(sub(PaymentRouteStatus.Completed), 'sub_1'),
    ]);
  });
});

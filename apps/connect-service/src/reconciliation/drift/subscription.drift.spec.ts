import { DriftCategory, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import type { StripeInvoice, StripeSubscription } from '@app/stripe-gateway';
import { routeOf, stripeObject, unix } from './drift-fixtures';
import { compareSubscriptions, linkInvoices, subscriptionOf } from './subscription.drift';

const sub = (o: Record<string, unknown> = {}): StripeSubscription =>
  stripeObject({
    id: 'sub_1',
    status: 'active',
    currency: 'usd',
    application_fee_percent: 10,
    metadata: {},
    items: { data: [{ price: { unit_amount: 500 }, quantity: 2 }] },
    created: unix('2026-01-01T00:00:00Z'),
    ...o,
  });
const route = routeOf({ type: PaymentRouteType.Subscription, stripe_object_id: 'sub_1', amount: 1000 });
const rows = { byObject: new Map([['sub_1', route]]), byId: new Map([[route.id, route]]) };

describe('compareSubscriptions', () => {
  it('sums items × quantity and finds nothing when amount, currency and status agree', () => {
    const out = compareSubscriptions([sub()], rows);
    expect(out.findings).toEqual([]);
    expect(out.matches.map((m) => m.stripe_object_id)).toEqual(['sub_1']);
  });

  it('reports amount, currency and status differences', () => {
    const out = compareSubscriptions([sub({ currency: 'eur', status: 'canceled' })], {
      ...rows,
      byObject: new Map([['sub_1', { ...route, amount: 999, status: PaymentRouteStatus.Completed }]]),
    });
    expect(out.findings.map((f) => f.category)).toEqual([
      DriftCategory.AmountMismatch,
      DriftCategory.CurrencyMismatch,
      DriftCategory.StatusMismatch,
    ]);
  });

  it('reports a subscription of ours with no route and ignores ones the tenant made itself', () => {
    const none = { byObject: new Map(), byId: new Map() };
    expect(compareSubscriptions([sub()], none).findings.map((f) => f.category)).toEqual([
      DriftCategory.MissingLocal,
    ]);
    expect(compareSubscriptions([sub({ application_fee_percent: null })], none).findings).toEqual([]);
  });
});

describe('linkInvoices', () => {
  it("links an invoice, its charge and PaymentIntent to its subscription's route (either API shape)", () => {
    const old = stripeObject<StripeInvoice>({
      id: 'in_1',
      subscription: 'sub_1',
      charge: 'ch_1',
      payment_intent: 'pi_9',
    });
    const parented = stripeObject<StripeInvoice>({
      id: 'in_2',
      parent: { subscription_details: { subscription: 'sub_1' } },
    });
    expect(subscriptionOf(parented)).toBe('sub_1');
    const out = linkInvoices([old, parented], new Map([['sub_1', route]]));
    expect(out.matches.map((m) => m.stripe_object_id)).toEqual(['in_1', 'ch_1', 'pi_9', 'in_2']);
    expect(linkInvoices([old], new Map()).matches).toEqual([]);
  });
});

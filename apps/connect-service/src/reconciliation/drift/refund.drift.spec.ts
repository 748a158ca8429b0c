import { DriftCategory, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import type { StripeRefund } from '@app/stripe-gateway';
import { routeOf, stripeObject, unix } from './drift-fixtures';
import { compareRefunds } from './refund.drift';

const refund = (o: Record<string, unknown> = {}): StripeRefund =>
  stripeObject({
    id: 're_1',
    status: 'succeeded',
    amount: 400,
    currency: 'usd',
    payment_intent: 'pi_1',
    metadata: {},
    created: unix('2026-01-02T00:00:00Z'),
    ...o,
  });
const parent = routeOf();
const refundRoute = routeOf({
  id: '00000000-0000-4000-8000-000000000002',
  type: PaymentRouteType.Refund,
  amount: 400,
  stripe_object_id: 're_1',
  stripe_payment_intent_id: null,
});
const routes = (r = refundRoute) => ({
  byId: new Map([[r.id, r]]),
  byObject: new Map([['re_1', r]]),
  parents: new Map([['pi_1', parent]]),
});

describe('compareRefunds', () => {
  it('links a refund that agrees with its route', () => {
    const out = compareRefunds([refund()], routes());
    expect(out.findings).toEqual([]);
    expect(out.matches.map((m) => [m.stripe_object_id, m.payment_route_id, m.kind])).toEqual([
      ['re_1', refundRoute.id, 'linked'],
    ]);
  });

  it('records a refund made outside the platform from Stripe and counts it toward the payment', () => {
    const out = compareRefunds([refund()], {
      byId: new Map(),
      byObject: new Map(),
      parents: new Map([['pi_1', parent]]),
    });
    expect(out.matches).toEqual([
      { stripe_object_id: 're_1', payment_route_id: parent.id, kind: 'unrecorded_refund', amount: 400 },
    ]);
    expect(out.findings[0]).toMatchObject({ category: DriftCategory.MissingLocal, route: parent });
    expect(out.findings[0].replay).toMatchObject({ handler: 'refund', type: 'refund.created' });
  });

  it('does not record a failed refund nor one it made itself, and ignores refunds of payments not ours', () => {
    const empty = { byId: new Map(), byObject: new Map() };
    const failed = compareRefunds([refund({ status: 'failed' })], {
      ...empty,
      parents: new Map([['pi_1', parent]]),
    });
    expect(failed.findings[0].replay).toBeUndefined();
    expect(failed.matches).toEqual([]);
    const ours = compareRefunds([refund({ metadata: { payment_route_id: 'x' } })], {
      ...empty,
      parents: new Map([['pi_1', parent]]),
    });
    expect(ours.findings[0].replay).toBeUndefined();
    expect(compareRefunds([refund()], { ...empty, parents: new Map() })).toEqual({
      findings: [],
      matches: [],
    });
  });

  it('heals a pending refund route whose refund succeeded by replaying refund.updated', () => {
    const pending = { ...refundRoute, status: PaymentRouteStatus.Pending };
    const out = compareRefunds([refund({ amount: 300 })], routes(pending));
    expect(out.findings.map((f) => f.category)).toEqual([
      DriftCategory.AmountMismatch,
      DriftCategory.StatusMismatch,
    ]);
    expect(out.findings[1].replay).toMatchObject({ type: 'refund.updated' });
  });
});

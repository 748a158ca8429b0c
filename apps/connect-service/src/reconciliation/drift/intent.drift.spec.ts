import { DriftCategory, PaymentRouteStatus } from '@app/database';
import type { StripePaymentIntent } from '@app/stripe-gateway';
import { routeOf, stripeObject, unix } from './drift-fixtures';
import { compareIntents } from './intent.drift';

const pi = (o: Record<string, unknown> = {}): StripePaymentIntent =>
  stripeObject({
    id: 'pi_1',
    status: 'succeeded',
    amount: 1000,
    currency: 'usd',
    application_fee_amount: 100,
    metadata: {},
    created: unix('2026-01-01T00:00:30Z'),
    ...o,
  });
const routes = (r = routeOf()) => ({ byId: new Map([[r.id, r]]), byIntent: new Map([['pi_1', r]]) });

describe('compareIntents', () => {
  it('links a PaymentIntent that agrees with its route and finds nothing', () => {
    const out = compareIntents([pi()], routes());
    expect(out.findings).toEqual([]);
    expect(out.matches).toEqual([
      { stripe_object_id: 'pi_1', payment_route_id: routeOf().id, kind: 'linked', amount: null },
    ]);
  });

  it('reports amount, currency and status differences against the route', () => {
    const out = compareIntents([pi({ amount: 900, currency: 'eur', status: 'canceled' })], routes());
    expect(out.findings.map((f) => f.category)).toEqual([
      DriftCategory.AmountMismatch,
      DriftCategory.CurrencyMismatch,
      DriftCategory.StatusMismatch,
    ]);
    expect(out.findings[0].local).toMatchObject({ amount: 1000 });
    expect(out.findings[0].stripe).toMatchObject({ amount: 900 });
  });

  it('asks to replay the missed webhook for an open route whose PaymentIntent succeeded', () => {
    const open = routeOf({ status: PaymentRouteStatus.Pending });
    const [finding] = compareIntents([pi()], routes(open)).findings;
    expect(finding.category).toBe(DriftCategory.StatusMismatch);
    expect(finding.replay).toMatchObject({ handler: 'payment_intent', type: 'payment_intent.succeeded' });
    expect(finding.note).toBe('healed: payment_intent.succeeded replayed');
  });

  it('reports a PaymentIntent of ours with no route, but leaves invoice PaymentIntents to subscriptions', () => {
    const none = { byId: new Map(), byIntent: new Map() };
    expect(compareIntents([pi()], none).findings.map((f) => f.category)).toEqual([
      DriftCategory.MissingLocal,
    ]);
    expect(compareIntents([pi({ invoice: 'in_1' })], none).findings).toEqual([]);
  });

  it('reports a second PaymentIntent for a route that already has one as a duplicate', () => {
    const r = routeOf();
    const out = compareIntents([pi({ id: 'pi_2', metadata: { payment_route_id: r.id } })], routes(r));
    expect(out.findings.map((f) => f.category)).toEqual([DriftCategory.Duplicate]);
    expect(out.matches).toEqual([]);
  });
});

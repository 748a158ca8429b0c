import { DriftCategory, DriftItemStatus, PaymentRouteStatus } from '@app/database';
import {
  RequestPacer,
  destinationTransferMatches,
  driftStatus,
  itemIdentity,
  missedIntentEvent,
  refundHealable,
  routeStatusesForIntent,
} from './drift-rules';
import { routeStatusForRefund } from '../payments/refund-status';

describe('drift rules', () => {
  it('maps PaymentIntent statuses to the route statuses consistent with them', () => {
    expect(routeStatusesForIntent('succeeded')).toEqual([PaymentRouteStatus.Completed]);
    expect(routeStatusesForIntent('requires_payment_method')).toContain(PaymentRouteStatus.Failed);
    expect(routeStatusesForIntent('requires_confirmation')).toEqual([PaymentRouteStatus.Pending]);
  });

  it('heals only an open route whose PaymentIntent reached an outcome, forward only', () => {
    expect(missedIntentEvent(PaymentRouteStatus.Pending, { status: 'succeeded' })).toBe(
      'payment_intent.succeeded',
    );
    expect(missedIntentEvent(PaymentRouteStatus.Processing, { status: 'canceled' })).toBe(
      'payment_intent.canceled',
    );
    expect(
      missedIntentEvent(PaymentRouteStatus.Pending, {
        status: 'requires_payment_method',
        last_payment_error: { code: 'card_declined' },
      }),
    ).toBe('payment_intent.payment_failed');
    expect(missedIntentEvent(PaymentRouteStatus.Pending, { status: 'requires_payment_method' })).toBeNull();
    expect(missedIntentEvent(PaymentRouteStatus.Completed, { status: 'canceled' })).toBeNull();
    expect(missedIntentEvent(PaymentRouteStatus.Failed, { status: 'succeeded' })).toBeNull();
  });

  it('heals a pending refund route only', () => {
    expect(routeStatusForRefund('succeeded')).toBe(PaymentRouteStatus.Completed);
    expect(refundHealable(PaymentRouteStatus.Pending, 'succeeded')).toBe(true);
    expect(refundHealable(PaymentRouteStatus.Pending, 'pending')).toBe(false);
    expect(refundHealable(PaymentRouteStatus.Completed, 'failed')).toBe(false);
  });

  it('accepts a destination transfer of the amount or of the amount net of the fee, nothing else', () => {
    expect(destinationTransferMatches(10_000, 10_000, 320)).toBe(true);
    expect(destinationTransferMatches(9_680, 10_000, 320)).toBe(true);
    expect(destinationTransferMatches(9_679, 10_000, 320)).toBe(false);
  });

  it('keys an item on category, route and object', () => {
    expect(itemIdentity(DriftCategory.Duplicate, 'r1', 'pi_2')).toBe('duplicate|r1|pi_2');
    expect(itemIdentity(DriftCategory.MissingLocal, null, 'pi_3')).toBe('missing_local|-|pi_3');
  });

  it('is expected inside the grace window and mismatched after it', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    expect(driftStatus(new Date('2026-11-26T11:50:00Z'), now, 900)).toBe(DriftItemStatus.Expected);
    expect(driftStatus(new Date('2026-11-26T11:44:59Z'), now, 900)).toBe(DriftItemStatus.Mismatched);
    expect(driftStatus(now, now, 0)).toBe(DriftItemStatus.Mismatched);
  });

  it('paces calls evenly at the configured rate', () => {
    let t = 1_000;
    const pacer = new RequestPacer(20, () => t);
    expect([pacer.reserve(), pacer.reserve(), pacer.reserve()]).toEqual([0, 50, 100]);
    t += 1_000;
    expect(pacer.reserve()).toBe(0);
  });
});

import { ChargeType, DriftCategory } from '@app/database';
import type { StripeCharge } from '@app/stripe-gateway';
import { chargesToCompare, compareCharges } from './charge.drift';
import { routeOf, stripeObject, unix } from './drift-fixtures';

const charge = (o: Record<string, unknown> = {}): StripeCharge =>
  stripeObject({
    id: 'ch_1',
    status: 'succeeded',
    payment_intent: 'pi_1',
    amount: 1000,
    amount_refunded: 0,
    application_fee: 'fee_1',
    application_fee_amount: 100,
    transfer: null,
    currency: 'usd',
    metadata: { tenant_id: 'tenant-a' },
    created: unix('2026-01-01T00:00:10Z'),
    ...o,
  });
const owner = { tenantId: 'tenant-a', stripeAccountId: 'acct_a' };

describe('compareCharges', () => {
  it('compares only succeeded charges of this tenant that belong to a PaymentIntent', () => {
    const list = [
      charge(),
      charge({ id: 'ch_2', status: 'failed' }),
      charge({ id: 'ch_3', payment_intent: null }),
      charge({ id: 'ch_4', metadata: { tenant_id: 'other' }, transfer_data: null }),
    ];
    expect(chargesToCompare(list, owner, false).map((c) => c.id)).toEqual(['ch_1']);
  });

  it('links the charge, its fee and transfer, and finds nothing when totals agree', () => {
    const route = routeOf();
    const out = compareCharges([charge()], { byIntent: new Map([['pi_1', route]]), refunded: new Map() });
    expect(out.findings).toEqual([]);
    expect(out.matches.map((m) => m.stripe_object_id)).toEqual(['ch_1', 'fee_1']);
  });

  it('reports a refunded total that differs from ours, a missing fee and a missing destination transfer', () => {
    const route = routeOf({ charge_type: ChargeType.Destination });
    const out = compareCharges([charge({ amount_refunded: 500, application_fee: null })], {
      byIntent: new Map([['pi_1', route]]),
      refunded: new Map([[route.id, 200]]),
    });
    expect(out.findings.map((f) => f.category)).toEqual([
      DriftCategory.RefundMismatch,
      DriftCategory.FeeMismatch,
      DriftCategory.TransferMismatch,
    ]);
    expect(out.findings[0].local).toMatchObject({ amount_refunded: 200 });
  });
});

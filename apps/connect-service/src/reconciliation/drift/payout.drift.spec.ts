import { DriftCategory } from '@app/database';
import type { StripeBalanceTransaction, StripePayout } from '@app/stripe-gateway';
import { stripeObject, unix } from './drift-fixtures';
import { carriedBy, unlinkedPayoutItems } from './payout.drift';

const bt = (o: Record<string, unknown>): StripeBalanceTransaction =>
  stripeObject({
    amount: 100,
    currency: 'usd',
    type: 'charge',
    reporting_category: 'charge',
    created: unix('2026-01-03T00:00:00Z'),
    ...o,
  });
const payout = stripeObject<StripePayout>({ id: 'po_1' });

describe('payout drift', () => {
  it("leaves the payout's own balance transaction out of what it carried", () => {
    const list = [
      bt({ id: 'txn_1', source: 'ch_1' }),
      bt({ id: 'txn_po', type: 'payout', reporting_category: 'payout' }),
    ];
    expect(carriedBy(list).map((b) => b.id)).toEqual(['txn_1']);
  });

  it('reports each carried transaction whose source leads to none of our routes', () => {
    const carried = [
      bt({ id: 'txn_1', source: 'ch_1' }),
      bt({ id: 'txn_2', source: { id: 'ch_2' } }),
      bt({ id: 'txn_3', source: null }),
    ];
    const out = unlinkedPayoutItems(payout, carried, new Set(['ch_1']));
    expect(out.map((f) => [f.category, f.objectId, f.stripe.source])).toEqual([
      [DriftCategory.PayoutUnlinked, 'txn_2', 'ch_2'],
      [DriftCategory.PayoutUnlinked, 'txn_3', null],
    ]);
    expect(out[0].stripe).toMatchObject({ payout: 'po_1', amount: 100 });
  });
});

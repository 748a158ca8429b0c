import { DriftCategory } from '@app/database';
import type { StripeApplicationFee } from '@app/stripe-gateway';
import { routeOf, stripeObject, unix } from './drift-fixtures';
import { compareFees, feesOf } from './fee.drift';

const fee = (o: Record<string, unknown> = {}): StripeApplicationFee =>
  stripeObject({
    id: 'fee_1',
    account: 'acct_a',
    charge: 'ch_1',
    amount: 100,
    amount_refunded: 0,
    refunds: { data: [{ id: 'fr_1' }] },
    created: unix('2026-01-01T00:00:10Z'),
    ...o,
  });

describe('compareFees', () => {
  it("keeps the fees collected from this tenant's account", () => {
    const owner = { tenantId: 'tenant-a', stripeAccountId: 'acct_a' };
    expect(feesOf([fee(), fee({ id: 'fee_2', account: { id: 'acct_b' } })], owner).map((f) => f.id)).toEqual([
      'fee_1',
    ]);
  });

  it('links the fee and its refunds to the route of its charge; a fee equal to ours is no difference', () => {
    const route = routeOf();
    const out = compareFees([fee()], new Map([['ch_1', route]]));
    expect(out.findings).toEqual([]);
    expect(out.matches.map((m) => m.stripe_object_id)).toEqual(['fee_1', 'fr_1']);
  });

  it('reports a fee that differs from the route fee, and skips fees of charges not linked', () => {
    const route = routeOf({ fee: 150 });
    const out = compareFees([fee(), fee({ id: 'fee_9', charge: 'ch_9' })], new Map([['ch_1', route]]));
    expect(out.findings.map((f) => [f.category, f.objectId])).toEqual([[DriftCategory.FeeMismatch, 'fee_1']]);
    expect(out.findings[0].stripe).toMatchObject({ amount: 100, charge: 'ch_1' });
  });
});

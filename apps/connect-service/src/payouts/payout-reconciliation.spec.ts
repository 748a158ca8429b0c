import { comparePayouts, payoutSumDrift, payoutSums } from './payout-reconciliation';

const s = (
  id: string,
  over: Partial<{ amount: number; status: string; reconciliation_status: string }> = {},
) => ({
  id,
  amount: 1000,
  currency: 'usd',
  status: 'paid',
  reconciliation_status: 'completed',
  ...over,
});
const l = (
  id: string,
  over: Partial<{ amount: number; status: string; reconciliation_status: string }> = {},
) => ({
  stripe_payout_id: id,
  amount: 1000,
  currency: 'usd',
  status: 'paid',
  reconciliation_status: 'completed',
  ...over,
});

describe('comparePayouts', () => {
  it('finds nothing when both sides agree', () => {
    expect(comparePayouts([s('po_1')], [l('po_1')])).toEqual([]);
  });

  it('a payout Stripe has and we lack is healable', () => {
    const [d] = comparePayouts([s('po_1')], []);
    expect(d).toMatchObject({ kind: 'missing_local', healable: true, stripe_payout_id: 'po_1' });
  });

  it('our row behind Stripe is healable; ahead of Stripe is not', () => {
    const behind = comparePayouts(
      [s('po_1')],
      [l('po_1', { status: 'in_transit', reconciliation_status: 'in_progress' })],
    );
    expect(behind[0]).toMatchObject({ kind: 'status_mismatch', healable: true });
    const recon = comparePayouts([s('po_1')], [l('po_1', { reconciliation_status: 'in_progress' })]);
    expect(recon[0]).toMatchObject({ kind: 'status_mismatch', healable: true });
    const ahead = comparePayouts([s('po_1', { status: 'in_transit' })], [l('po_1')]);
    expect(ahead[0]).toMatchObject({ kind: 'status_mismatch', healable: false });
  });

  it('a different amount is never healed', () => {
    expect(comparePayouts([s('po_1')], [l('po_1', { amount: 999 })])[0]).toMatchObject({
      kind: 'amount_mismatch',
      healable: false,
    });
  });
});

describe('payoutSums', () => {
  const txns = [
    { id: 'txn_1', type: 'charge', amount: 1000, fee: 59, net: 941, currency: 'usd' },
    { id: 'txn_2', type: 'refund', amount: -200, fee: 0, net: -200, currency: 'usd' },
    { id: 'txn_3', type: 'payout', amount: -741, fee: 0, net: -741, currency: 'usd' },
  ];

  it('adds the settled transactions to the payout amount, to the cent', () => {
    expect(payoutSums(741, txns)).toEqual({
      settled: 741,
      gross: 800,
      fees: 59,
      payout_transaction: -741,
      sums_match: true,
    });
  });

  it('says so when one cent is missing', () => {
    expect(payoutSums(742, txns).sums_match).toBe(false);
    expect(payoutSumDrift(s('po_1', { amount: 742 }), txns)).toMatchObject({ kind: 'sum_mismatch' });
    expect(payoutSumDrift(s('po_1', { amount: 741 }), txns)).toBeNull();
  });

  it('does not judge a payout whose reconciliation is not complete', () => {
    expect(payoutSumDrift(s('po_1', { amount: 1, reconciliation_status: 'in_progress' }), txns)).toBeNull();
  });
});

import { DriftCategory } from '@app/database';
import type { StripePayout } from '@app/stripe-gateway';
import { comparePayouts, LocalPayoutFacts, payoutSumDrift } from '../../payouts/payout-reconciliation';
import { stripeObject, unix } from './drift-fixtures';
import { payoutFindings } from './payout-state.drift';

const payout = (id: string, o: Partial<StripePayout> = {}): StripePayout =>
  stripeObject<StripePayout>({
    id,
    amount: 1_000,
    currency: 'usd',
    status: 'paid',
    reconciliation_status: 'completed',
    created: unix('2026-01-03T00:00:00Z'),
    ...o,
  });
const ours = (p: StripePayout, o: Partial<LocalPayoutFacts> = {}): LocalPayoutFacts => ({
  stripe_payout_id: p.id,
  amount: p.amount,
  currency: p.currency,
  status: p.status,
  reconciliation_status: p.reconciliation_status,
  ...o,
});

describe('payout state drift', () => {
  it('files each payout difference in its payout category; only a missing or stale row is replayed', () => {
    const page = ['po_missing', 'po_behind', 'po_ahead', 'po_amount', 'po_currency', 'po_same'].map((id) =>
      payout(id),
    );
    const [, behind, ahead, amount, currency, same] = page;
    const drift = comparePayouts(page, [
      ours(behind, { status: 'in_transit', reconciliation_status: 'in_progress' }),
      ours(ahead, { status: 'failed' }),
      ours(amount, { amount: 999 }),
      ours(currency, { currency: 'eur' }),
      ours(same),
    ]);
    const out = payoutFindings(drift, page);
    expect(out.map((f) => [f.objectId, f.category, f.replay?.type ?? null, f.stripe.object])).toEqual([
      ['po_missing', DriftCategory.PayoutMissing, 'payout.paid', 'payout'],
      ['po_behind', DriftCategory.PayoutStatus, 'payout.paid', 'payout'],
      ['po_ahead', DriftCategory.PayoutStatus, null, 'payout'],
      ['po_amount', DriftCategory.PayoutAmount, null, 'payout'],
      ['po_currency', DriftCategory.PayoutAmount, null, 'payout'],
    ]);
  });

  it('a reconciled payout whose transactions do not add up is a payout_sum item, never replayed', () => {
    const p = payout('po_sum');
    const sum = payoutSumDrift(p, [
      { id: 'txn_1', type: 'charge', amount: 1_100, fee: 200, net: 900, currency: 'usd' },
      { id: 'txn_po', type: 'payout', amount: -1_000, fee: 0, net: -1_000, currency: 'usd' },
    ]);
    expect(sum).not.toBeNull();
    const [finding] = payoutFindings([sum!], [p]);
    expect(finding).toMatchObject({ category: DriftCategory.PayoutSum, objectId: 'po_sum' });
    expect(finding.replay).toBeUndefined();
  });
});

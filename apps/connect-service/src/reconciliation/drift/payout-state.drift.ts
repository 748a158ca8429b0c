import { DriftCategory } from '@app/database';
import type { StripePayout } from '@app/stripe-gateway';
import type { PayoutDrift } from '../../payouts/payout-reconciliation';
import { Finding, fromUnix } from './drift.types';

/** Payout drift kinds as the run's payout categories. */
const CATEGORY_OF_KIND: Record<PayoutDrift['kind'], DriftCategory> = {
  missing_local: DriftCategory.PayoutMissing,
  status_mismatch: DriftCategory.PayoutStatus,
  amount_mismatch: DriftCategory.PayoutAmount,
  sum_mismatch: DriftCategory.PayoutSum,
};

/**
 * A payout's drift as a run item: our row against Stripe's payout, with the payout replayed through the payout
 * webhook handler when the fix is provably safe (our row is missing or lags behind Stripe).
 */
export function payoutFindings(drift: PayoutDrift[], page: StripePayout[]): Finding[] {
  const byId = new Map(page.map((p) => [p.id, p]));
  const out: Finding[] = [];
  for (const d of drift) {
    const payout = byId.get(d.stripe_payout_id);
    if (!payout) continue;
    out.push({
      category: CATEGORY_OF_KIND[d.kind],
      route: null,
      objectId: payout.id,
      local: d.local ? { object: 'payout', ...d.local } : {},
      stripe: { object: 'payout', kind: d.kind, ...d.stripe },
      newest: fromUnix(payout.created),
      ...(d.healable
        ? { replay: { handler: 'payout' as const, type: `payout.${payout.status}`, object: payout } }
        : {}),
      note:
        d.kind === 'sum_mismatch'
          ? 'the payout’s balance transactions do not sum to its amount'
          : `payout ${d.kind.replace('_', ' ')}`,
    });
  }
  return out;
}

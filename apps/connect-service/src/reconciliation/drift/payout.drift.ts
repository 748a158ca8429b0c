import { DriftCategory } from '@app/database';
import type { StripeBalanceTransaction, StripePayout } from '@app/stripe-gateway';
import { Finding, fromUnix, idOf } from './drift.types';

/** What a payout carried: its balance transactions other than the payout's own. */
export function carriedBy(bts: StripeBalanceTransaction[]): StripeBalanceTransaction[] {
  return bts.filter((bt) => bt.reporting_category !== 'payout' && bt.type !== 'payout');
}

/** Every balance transaction a payout carried must lead back to one of our routes (`linkedSources`: source ids). */
export function unlinkedPayoutItems(
  payout: StripePayout,
  carried: StripeBalanceTransaction[],
  linkedSources: Set<string>,
): Finding[] {
  return carried
    .filter((bt) => {
      const source = idOf(bt.source);
      return !(source && linkedSources.has(source));
    })
    .map((bt) => ({
      category: DriftCategory.PayoutUnlinked,
      route: null,
      objectId: bt.id,
      local: {},
      stripe: {
        id: bt.id,
        payout: payout.id,
        amount: bt.amount,
        currency: bt.currency,
        type: bt.type,
        reporting_category: bt.reporting_category,
        source: idOf(bt.source),
      },
      newest: fromUnix(bt.created),
    }));
}

/**
 * Payout reconciliation as pure comparisons: what Stripe lists for an account against our payouts rows, and a
 * payout's balance transactions against its amount. https://docs.stripe.com/payouts/reconciliation
 */

export interface StripePayoutFacts {
  id: string;
  amount: number;
  currency: string;
  status: string;
  reconciliation_status: string;
}

export interface LocalPayoutFacts {
  stripe_payout_id: string;
  amount: number;
  currency: string;
  status: string;
  reconciliation_status: string;
}

export type PayoutDriftKind = 'missing_local' | 'status_mismatch' | 'amount_mismatch' | 'sum_mismatch';

export interface PayoutDrift {
  kind: PayoutDriftKind;
  stripe_payout_id: string;
  /** Healing is provably safe: our row is missing or stale, Stripe's object is the truth to copy. */
  healable: boolean;
  local: LocalPayoutFacts | null;
  stripe: StripePayoutFacts;
}

/** Statuses in the order a payout moves through them; failed and canceled end it. */
const ORDER: Record<string, number> = { pending: 0, in_transit: 1, paid: 2, failed: 3, canceled: 3 };

/**
 * Stripe's payouts against ours. A missing row or one that lags behind Stripe (status or reconciliation) is
 * healable; an amount or currency that differs is not (a payout's amount never changes: someone must look).
 */
export function comparePayouts(stripe: StripePayoutFacts[], local: LocalPayoutFacts[]): PayoutDrift[] {
  const ours = new Map(local.map((l) => [l.stripe_payout_id, l]));
  const drift: PayoutDrift[] = [];
  for (const s of stripe) {
    const l = ours.get(s.id) ?? null;
    if (!l) {
      drift.push({ kind: 'missing_local', stripe_payout_id: s.id, healable: true, local: null, stripe: s });
    } else if (l.amount !== s.amount || l.currency !== s.currency) {
      drift.push({ kind: 'amount_mismatch', stripe_payout_id: s.id, healable: false, local: l, stripe: s });
    } else if (l.status !== s.status || l.reconciliation_status !== s.reconciliation_status) {
      const behind =
        (ORDER[l.status] ?? -1) < (ORDER[s.status] ?? -1) ||
        (l.status === s.status && l.reconciliation_status !== 'completed');
      drift.push({ kind: 'status_mismatch', stripe_payout_id: s.id, healable: behind, local: l, stripe: s });
    }
  }
  return drift;
}

export interface PayoutTransactionFacts {
  id: string;
  type: string;
  amount: number;
  fee: number;
  net: number;
  currency: string;
}

export interface PayoutSums {
  /** Sum of `net` over what the payout carried (its own `payout` transaction excluded). */
  settled: number;
  gross: number;
  fees: number;
  /** The payout's own transaction (negative: the money leaving the balance). */
  payout_transaction: number;
  sums_match: boolean;
}

/**
 * What a payout contains adds up to it: the net of the transactions it settled equals its amount, and its own
 * `payout` transaction is minus that amount. Checked to the minor unit.
 */
export function payoutSums(payoutAmount: number, txns: PayoutTransactionFacts[]): PayoutSums {
  const carried = txns.filter((t) => t.type !== 'payout');
  const own = txns.filter((t) => t.type === 'payout');
  const settled = carried.reduce((sum, t) => sum + t.net, 0);
  const gross = carried.reduce((sum, t) => sum + t.amount, 0);
  const fees = carried.reduce((sum, t) => sum + t.fee, 0);
  const payoutTransaction = own.reduce((sum, t) => sum + t.net, 0);
  const ownMatches = own.length === 0 || payoutTransaction === -payoutAmount;
  return {
    settled,
    gross,
    fees,
    payout_transaction: payoutTransaction,
    sums_match: settled === payoutAmount && ownMatches,
  };
}

/** The sum check as a drift item, for a reconciliation run. */
export function payoutSumDrift(
  payout: StripePayoutFacts,
  txns: PayoutTransactionFacts[],
): PayoutDrift | null {
  if (payout.reconciliation_status !== 'completed') return null;
  return payoutSums(payout.amount, txns).sums_match
    ? null
    : { kind: 'sum_mismatch', stripe_payout_id: payout.id, healable: false, local: null, stripe: payout };
}

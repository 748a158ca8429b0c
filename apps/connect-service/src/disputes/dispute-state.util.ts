import type { DisputeRecovery } from '@app/database';

/**
 * A dispute's statuses in the order it can move through them (https://docs.stripe.com/disputes/how-disputes-work):
 * an inquiry (warning_*) may close or escalate to a chargeback; a chargeback ends won or lost.
 */
const RANK: Record<string, number> = {
  warning_needs_response: 0,
  warning_under_review: 1,
  warning_closed: 2,
  needs_response: 3,
  under_review: 4,
  won: 5,
  lost: 5,
};

export const CLOSED_STATUSES = ['won', 'lost', 'warning_closed'];

export function isClosed(status: string): boolean {
  return CLOSED_STATUSES.includes(status);
}

/** Whether `next` may replace `current`: the same or a later stage; a closed dispute stays as it closed. */
export function isForward(current: string | null, next: string): boolean {
  if (current === null) return true;
  if (current === 'won' || current === 'lost') return current === next;
  return (RANK[next] ?? -1) >= (RANK[current] ?? -1);
}

/**
 * Who carries the loss: a dispute on the platform's own account (destination charges, `on_behalf_of`) debits the
 * platform; one on the connected account (direct charges, an event with `account`) debits the tenant.
 * https://docs.stripe.com/connect/destination-charges#disputes-and-chargebacks
 */
export function liableOf(eventAccount: string | null | undefined): 'platform' | 'tenant' {
  return eventAccount ? 'tenant' : 'platform';
}

export interface DisputeFunds {
  withdrawn: number;
  reinstated: number;
  fee: number;
}

/** What the dispute's balance transactions moved on the liable balance (amounts positive). */
export function fundsOf(balanceTransactions: unknown): DisputeFunds {
  const out: DisputeFunds = { withdrawn: 0, reinstated: 0, fee: 0 };
  if (!Array.isArray(balanceTransactions)) return out;
  for (const t of balanceTransactions as Array<{ amount?: unknown; fee?: unknown }>) {
    if (typeof t?.amount !== 'number') continue;
    if (t.amount < 0) out.withdrawn += -t.amount;
    else out.reinstated += t.amount;
    if (typeof t.fee === 'number') out.fee += t.fee;
  }
  return out;
}

export function initialRecovery(
  liable: 'platform' | 'tenant',
  mode: 'none' | 'reverse_transfer',
): DisputeRecovery {
  return {
    status: liable === 'tenant' ? 'not_applicable' : mode === 'none' ? 'none' : 'pending',
    mode: liable === 'tenant' ? 'none' : mode,
    transfer_id: null,
    reversed_amount: 0,
    returned_amount: 0,
    failure_code: null,
    failure_reason: null,
    movements: [],
  };
}

/** How much to take back from the tenant's transfer: the dispute (and fee) but never more than the transfer has left. */
export function reversalAmount(
  disputeAmount: number,
  fee: number,
  withFee: boolean,
  transferLeft: number,
): number {
  return Math.max(0, Math.min(disputeAmount + (withFee ? fee : 0), transferLeft));
}

/** The Stripe idempotency key of one recovery step: one reversal and one transfer back per dispute, ever. */
export function recoveryIdempotencyKey(stripeDisputeId: string, step: 'reverse' | 'return'): string {
  return `dispute-recovery:${stripeDisputeId}:${step}`;
}

import type { StripePayout } from '@app/stripe-gateway';
import type { PayoutRow, PayoutState } from './payouts.repository';

/** Stripe's payout → what the payouts table keeps. https://docs.stripe.com/api/payouts/object */
export function payoutStateOf(p: StripePayout, stripeAccountId: string): PayoutState {
  return {
    stripe_account_id: stripeAccountId,
    stripe_payout_id: p.id,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    method: p.method,
    automatic: p.automatic,
    arrival_date: p.arrival_date ? new Date(p.arrival_date * 1000) : null,
    failure_code: p.failure_code ?? null,
    failure_message: p.failure_message ?? null,
    reconciliation_status: p.reconciliation_status,
    description: p.description ?? null,
    created_at: new Date(p.created * 1000),
  };
}

export type PayoutConnectEvent =
  | 'connect.payout.created'
  | 'connect.payout.paid'
  | 'connect.payout.failed'
  | 'connect.payout.canceled'
  | 'connect.payout.reconciled';

/**
 * The ConnectEvents a change of a payout row means: each once, when the row first reaches the state (a replay or a
 * late event that changes nothing emits nothing).
 */
export function payoutEventsFor(
  before: { status: string; reconciliation_status: string } | null,
  after: Pick<PayoutRow, 'status' | 'reconciliation_status'>,
): PayoutConnectEvent[] {
  const out: PayoutConnectEvent[] = [];
  if (!before) out.push('connect.payout.created');
  const changed = before?.status !== after.status;
  if (changed && after.status === 'paid') out.push('connect.payout.paid');
  if (changed && after.status === 'failed') out.push('connect.payout.failed');
  if (changed && after.status === 'canceled') out.push('connect.payout.canceled');
  if (after.reconciliation_status === 'completed' && before?.reconciliation_status !== 'completed')
    out.push('connect.payout.reconciled');
  return out;
}

/** The body of every connect.payout.* event. */
export function payoutEventData(row: PayoutRow): Record<string, unknown> {
  return {
    payout_id: row.id,
    stripe_payout_id: row.stripe_payout_id,
    stripe_account_id: row.stripe_account_id,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    method: row.method,
    automatic: row.automatic,
    arrival_date: row.arrival_date,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    reconciliation_status: row.reconciliation_status,
  };
}

import { ConnectAccountStatus, RequirementEntry } from '@app/database';
import type { StripeV2Account } from '@app/stripe-gateway';
import type { AccountState } from './account-status.util';
import { configurationsFromV2, nextDeadline } from './requirements-entries';

/** v2 capability status in the v1 words `capability_states` uses. */
const V1_WORD: Record<string, string> = { active: 'active', pending: 'pending' };

/**
 * The v1-meaning fields of a v2 account: `capabilities` keyed by capability name (`card_payments`,
 * `stripe_balance.stripe_transfers`...), `charges_enabled` = merchant card payments active, `payouts_enabled` = a
 * Stripe balance payout or transfer capability active, and the status rule of v1 accounts: disabled (closed or
 * rejected), active (every requested capability active), pending (nothing the user must do is past due and no
 * capability is restricted), else restricted.
 */
export function v2AccountState(account: StripeV2Account, entries: RequirementEntry[]): AccountState {
  const configurations = configurationsFromV2(account);
  const capabilities: Record<string, string> = {};
  const raw: string[] = [];
  for (const config of Object.values(configurations)) {
    if (!config.applied) continue;
    for (const [name, status] of Object.entries(config.capabilities)) {
      capabilities[name] = V1_WORD[status] ?? 'inactive';
      raw.push(status);
    }
  }
  const merchant = configurations.merchant?.capabilities ?? {};
  const recipient = configurations.recipient?.capabilities ?? {};
  // Charges can reach the account: as merchant of record, or as the recipient of destination transfers.
  const chargesEnabled =
    merchant.card_payments === 'active' || recipient['stripe_balance.stripe_transfers'] === 'active';
  const payoutsEnabled =
    merchant['stripe_balance.payouts'] === 'active' ||
    recipient['stripe_balance.payouts'] === 'active' ||
    recipient['stripe_balance.stripe_transfers'] === 'active';
  const userDue = entries.filter((e) => e.awaiting_action_from === 'user' && e.due !== 'eventually_due');
  const pastDue = userDue.filter((e) => e.due === 'past_due');
  const detailsSubmitted = userDue.length === 0;
  let status: ConnectAccountStatus;
  if (account.closed || (raw.length && raw.every((s) => s === 'rejected')))
    status = ConnectAccountStatus.Disabled;
  else if (raw.length && raw.every((s) => s === 'active')) status = ConnectAccountStatus.Active;
  else if (pastDue.length || (detailsSubmitted && raw.some((s) => s === 'restricted' || s === 'rejected'))) {
    status = ConnectAccountStatus.Restricted;
  } else status = ConnectAccountStatus.Pending;
  const deadline = nextDeadline(entries);
  const fields = (pred: (e: RequirementEntry) => boolean) => entries.filter(pred).map((e) => e.field);
  return {
    status,
    charges_enabled: chargesEnabled,
    payouts_enabled: payoutsEnabled,
    details_submitted: detailsSubmitted,
    capabilities,
    requirements: {
      currently_due: fields((e) => e.awaiting_action_from === 'user' && e.due !== 'eventually_due'),
      eventually_due: fields((e) => e.awaiting_action_from === 'user'),
      past_due: pastDue.map((e) => e.field),
      pending_verification: fields((e) => e.awaiting_action_from === 'stripe'),
      current_deadline: deadline ? deadline.toISOString() : null,
      disabled_reason: pastDue.length ? 'requirements.past_due' : null,
    },
    country: account.identity?.country ?? null,
  };
}

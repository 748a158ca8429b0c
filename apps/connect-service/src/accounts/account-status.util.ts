import { AccountRequirements, ConnectAccountStatus } from '@app/database';
import type { StripeAccount } from '@app/stripe-gateway';

export interface AccountStatusOptions {
  /** Capabilities that must be `active` for the account to count as active. */
  requiredCapabilities: readonly string[];
  /** The platform lost access (deauthorized, deleted, rejected by us): terminal whatever Stripe last said. */
  lostAccess?: boolean;
}

/** What the service keeps about a Stripe account: everything derived from one fresh `accounts.retrieve`. */
export interface AccountState {
  status: ConnectAccountStatus;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  capabilities: Record<string, string>;
  requirements: AccountRequirements;
  /** ISO 3166-1 alpha-2, as Stripe reports it (routing rules condition on `account.country`). */
  country: string | null;
}

/** The spec's `capabilities: string[]`: the names of the capabilities whose state is `active`, sorted. */
export function activeCapabilities(states: Record<string, string> | null | undefined): string[] {
  return Object.entries(states ?? {})
    .filter(([, state]) => state === 'active')
    .map(([name]) => name)
    .sort();
}

const strings = (v: readonly string[] | null | undefined): string[] => (v ? [...v] : []);

/**
 * Stripe's account → the service's four states, checked in this order
 * (https://docs.stripe.com/connect/handling-api-verification#determine-if-verification-is-needed):
 * disabled (rejected.* or no access) → active (charges + payouts + every required capability active) →
 * pending (details not submitted, or only waiting on Stripe's verification with nothing past due) →
 * restricted (anything else: past due, under review, listed, platform paused, inactive capability...).
 */
export function mapAccountStatus(account: StripeAccount, opts: AccountStatusOptions): AccountState {
  const req = account.requirements;
  const requirements: AccountRequirements = {
    currently_due: strings(req?.currently_due),
    eventually_due: strings(req?.eventually_due),
    past_due: strings(req?.past_due),
    pending_verification: strings(req?.pending_verification),
    current_deadline: req?.current_deadline ? new Date(req.current_deadline * 1000).toISOString() : null,
    disabled_reason: req?.disabled_reason ?? null,
  };
  const capabilities: Record<string, string> = {};
  for (const [name, value] of Object.entries(account.capabilities ?? {})) {
    if (typeof value === 'string') capabilities[name] = value;
  }
  const chargesEnabled = account.charges_enabled === true;
  const payoutsEnabled = account.payouts_enabled === true;
  const detailsSubmitted = account.details_submitted === true;
  return {
    status: statusOf(requirements, capabilities, {
      chargesEnabled,
      payoutsEnabled,
      detailsSubmitted,
      ...opts,
    }),
    charges_enabled: chargesEnabled,
    payouts_enabled: payoutsEnabled,
    details_submitted: detailsSubmitted,
    capabilities,
    requirements,
    country: account.country ?? null,
  };
}

function statusOf(
  r: AccountRequirements,
  capabilities: Record<string, string>,
  a: AccountStatusOptions & { chargesEnabled: boolean; payoutsEnabled: boolean; detailsSubmitted: boolean },
): ConnectAccountStatus {
  const reason = r.disabled_reason ?? '';
  if (a.lostAccess || reason.startsWith('rejected.')) return ConnectAccountStatus.Disabled;

  const required = a.requiredCapabilities.map((name) => capabilities[name]);
  if (a.chargesEnabled && a.payoutsEnabled && required.every((c) => c === 'active')) {
    return ConnectAccountStatus.Active;
  }
  if (!a.detailsSubmitted) return ConnectAccountStatus.Pending;

  // Only Stripe's own verification is outstanding: nothing the account holder must do, nothing past due.
  const onlyVerifying =
    r.past_due.length === 0 &&
    r.currently_due.length === 0 &&
    (reason === '' || reason === 'requirements.pending_verification') &&
    required.every((c) => c === 'active' || c === 'pending') &&
    (r.pending_verification.length > 0 || required.some((c) => c === 'pending'));
  return onlyVerifying ? ConnectAccountStatus.Pending : ConnectAccountStatus.Restricted;
}

/** True when a change is worth a `connect.account.updated` event: status or what Stripe still needs. */
export function accountStateChanged(
  before: Pick<
    AccountState,
    'status' | 'requirements' | 'charges_enabled' | 'payouts_enabled' | 'capabilities'
  >,
  after: Pick<
    AccountState,
    'status' | 'requirements' | 'charges_enabled' | 'payouts_enabled' | 'capabilities'
  >,
): boolean {
  return (
    before.status !== after.status ||
    before.charges_enabled !== after.charges_enabled ||
    before.payouts_enabled !== after.payouts_enabled ||
    canonical(before.requirements) !== canonical(after.requirements) ||
    canonical(before.capabilities) !== canonical(after.capabilities)
  );
}

/** JSON with sorted keys, so jsonb round-trips (which reorder keys) do not look like changes. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

import { EmulatorState } from '../context';
import { invalidRequest, StripeApiError } from '../errors';
import { StripeObject } from '../store';
import { EventRequestInfo } from '../webhooks/delivery';
import { capabilityObject } from './account-objects';

/**
 * Capability states and what Stripe refuses without them.
 * https://docs.stripe.com/connect/account-capabilities
 */
export const CAPABILITY_STATES = ['active', 'inactive', 'pending'] as const;
export type CapabilityState = (typeof CAPABILITY_STATES)[number];

const LINKED = ['card_payments', 'transfers'];

/** Stripe's refusal of a direct charge without `card_payments` (it documents no code for it). */
export const CARD_PAYMENTS_MESSAGE =
  'You cannot create a charge on a connected account without the `card_payments` capability enabled.';
export const TRANSFERS_MESSAGE =
  'Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments';

function capabilitiesOf(account: StripeObject): Record<string, string> {
  if (!account.capabilities || typeof account.capabilities !== 'object') account.capabilities = {};
  return account.capabilities as Record<string, string>;
}

/**
 * Sets capability states (the control API), applies the linked-capability rule, keeps `charges_enabled` on
 * `card_payments` and `payouts_enabled` on `transfers`, and sends what Stripe sends: one capability.updated
 * per changed capability (previous_attributes = the old status), then account.updated.
 */
export function setCapabilities(
  emu: EmulatorState,
  account: StripeObject,
  changes: Record<string, CapabilityState>,
  request: EventRequestInfo | null = null,
): StripeObject {
  const caps = capabilitiesOf(account);
  const before = { ...caps };
  const previousFlags = {
    charges_enabled: account.charges_enabled,
    payouts_enabled: account.payouts_enabled,
  };
  Object.assign(caps, changes);
  if (emu.settings.linked_capabilities && LINKED.every((c) => c in caps)) {
    const fell = LINKED.some((c) => caps[c] === 'inactive' && before[c] !== 'inactive');
    if (fell) for (const c of LINKED) caps[c] = 'inactive';
  }
  if ('card_payments' in caps) account.charges_enabled = caps.card_payments === 'active';
  if ('transfers' in caps) account.payouts_enabled = caps.transfers === 'active';

  const changed = Object.keys(caps).filter((c) => before[c] !== caps[c]);
  const previous: Record<string, unknown> = {};
  if (changed.length > 0)
    previous.capabilities = Object.fromEntries(changed.map((c) => [c, before[c] ?? null]));
  for (const [k, v] of Object.entries(previousFlags)) if (account[k] !== v) previous[k] = v;
  for (const name of changed) {
    emu.webhooks.emit('capability.updated', capabilityObject(account, name), account.id, request, {
      status: before[name] ?? 'unrequested',
    });
  }
  if (Object.keys(previous).length > 0) {
    emu.webhooks.emit('account.updated', account, account.id, request, previous);
  }
  return account;
}

/** A direct charge (Stripe-Account) needs the account's card_payments active. */
export function requireCardPayments(emu: EmulatorState, accountId: string): void {
  if (!emu.settings.enforce_capabilities) return;
  const account = emu.store.entry('account', accountId)?.obj;
  if (!account) return;
  if (capabilitiesOf(account).card_payments !== 'active') throw invalidRequest(CARD_PAYMENTS_MESSAGE);
}

/** A destination charge or a transfer needs the destination's transfers active. */
export function requireTransfers(emu: EmulatorState, destination: string, param: string): void {
  if (!emu.settings.enforce_capabilities) return;
  const account = emu.store.entry('account', destination)?.obj;
  if (!account || capabilitiesOf(account).transfers === 'active') return;
  throw invalidRequest(TRANSFERS_MESSAGE, { code: 'insufficient_capabilities_for_transfer', param });
}

/** Parses the control body `{"<capability>": "active" | "inactive" | "pending"}`. */
export function parseCapabilityChanges(body: Record<string, unknown>): Record<string, CapabilityState> {
  const out: Record<string, CapabilityState> = {};
  const entries = Object.entries(body);
  if (entries.length === 0) throw new StripeApiError(400, controlError('give at least one capability'));
  for (const [name, state] of entries) {
    if (!/^[a-z0-9_]+$/.test(name))
      throw new StripeApiError(400, controlError(`bad capability name: ${name}`));
    if (!CAPABILITY_STATES.includes(state as CapabilityState)) {
      throw new StripeApiError(400, controlError(`${name} must be one of ${CAPABILITY_STATES.join(', ')}`));
    }
    out[name] = state as CapabilityState;
  }
  return out;
}

function controlError(message: string): Record<string, unknown> {
  return { error: { type: 'invalid_request_error', message } };
}

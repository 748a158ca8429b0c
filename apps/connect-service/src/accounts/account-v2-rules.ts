import type { AccountConfiguration } from '@app/database';

export type V2Configuration = 'merchant' | 'recipient' | 'customer';
export type Dashboard = 'full' | 'express' | 'none';
export type FeesCollector = 'application' | 'application_custom' | 'application_express' | 'stripe';
export type LossesCollector = 'application' | 'stripe';

export interface V2AccountShape {
  configurations: V2Configuration[];
  capabilities: string[];
  dashboard: Dashboard;
  responsibilities: { fees_collector: FeesCollector; losses_collector: LossesCollector };
}

export interface RuleViolation {
  rule: string;
  message: string;
}

/** Capabilities a v2 create may request, by configuration (https://docs.stripe.com/api/v2/core/accounts/create). */
const RECIPIENT_CAPABILITIES = [
  'stripe_balance.stripe_transfers',
  'cards',
  'bank_accounts.local',
  'bank_accounts.wire',
  'bank_accounts.instant',
];
const CUSTOMER_CAPABILITIES = ['automatic_indirect_tax'];

/** The configuration a requested capability belongs to; merchant capabilities are the `*_payments` ones. */
export function configurationOf(capability: string): V2Configuration | null {
  if (RECIPIENT_CAPABILITIES.includes(capability)) return 'recipient';
  if (CUSTOMER_CAPABILITIES.includes(capability)) return 'customer';
  if (/^[a-z_]+_payments$/.test(capability)) return 'merchant';
  return null;
}

/** What each configuration requests when the body names no capability of it. */
export const DEFAULT_CAPABILITIES: Record<V2Configuration, string[]> = {
  merchant: ['card_payments'],
  recipient: ['stripe_balance.stripe_transfers'],
  customer: [],
};

/**
 * The combinations Stripe documents as invalid, checked before calling it:
 * - `losses_collector: application` needs the platform to collect fees ("Setting `controller.losses.payments=application`
 *   requires `controller.fees.payer=application`", https://docs.stripe.com/api/accounts/create#create_account-controller);
 * - `application_express` fees are for Express dashboards and `application_custom` for accounts without one
 *   (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior);
 * - a capability belongs to one configuration, which must be requested; `stripe_balance.payouts` is not requestable.
 */
export function v2AccountViolations(shape: V2AccountShape): RuleViolation[] {
  const out: RuleViolation[] = [];
  const { fees_collector: fees, losses_collector: losses } = shape.responsibilities;
  if (!shape.configurations.length) {
    out.push({ rule: 'configuration_required', message: 'at least one of merchant, recipient, customer' });
  }
  if (losses === 'application' && fees === 'stripe') {
    out.push({
      rule: 'losses_need_application_fees',
      message: 'losses_collector "application" requires fees_collector other than "stripe"',
    });
  }
  if (fees === 'application_express' && shape.dashboard !== 'express') {
    out.push({
      rule: 'application_express_needs_express_dashboard',
      message: 'fees_collector "application_express" requires dashboard "express"',
    });
  }
  if (fees === 'application_custom' && shape.dashboard !== 'none') {
    out.push({
      rule: 'application_custom_needs_no_dashboard',
      message: 'fees_collector "application_custom" requires dashboard "none"',
    });
  }
  if (
    shape.configurations.length === 1 &&
    shape.configurations[0] === 'customer' &&
    shape.dashboard !== 'none'
  ) {
    out.push({
      rule: 'customer_only_has_no_dashboard',
      message: 'an account with only the customer configuration has dashboard "none"',
    });
  }
  for (const capability of shape.capabilities) {
    const config = configurationOf(capability);
    if (!config) {
      out.push({
        rule: 'unknown_capability',
        message: `"${capability}" is not a capability a v2 configuration can request`,
      });
    } else if (!shape.configurations.includes(config)) {
      out.push({
        rule: 'capability_needs_configuration',
        message: `"${capability}" needs the ${config} configuration`,
      });
    }
  }
  return out;
}

/** `configuration` of a v2 create: each configuration with its requested capabilities (dotted names nested). */
export function configurationParams(shape: Pick<V2AccountShape, 'configurations' | 'capabilities'>) {
  const out: Record<string, { capabilities: Record<string, unknown> }> = {};
  for (const config of shape.configurations) {
    const named = shape.capabilities.filter((c) => configurationOf(c) === config);
    const requested = named.length ? named : DEFAULT_CAPABILITIES[config];
    const capabilities: Record<string, unknown> = {};
    for (const name of requested) {
      const [head, tail] = name.split('.');
      if (tail) {
        capabilities[head] = { ...((capabilities[head] as object) ?? {}), [tail]: { requested: true } };
      } else {
        capabilities[head] = { requested: true };
      }
    }
    out[config] = { capabilities };
  }
  return out;
}

export type ChargeKind = 'destination' | 'direct';

/**
 * The capability a charge needs on a v2 account, or null when it has it: a destination charge needs the recipient's
 * `stripe_balance.stripe_transfers` (or merchant `card_payments` with `on_behalf_of`), a direct charge merchant
 * `card_payments` (https://docs.stripe.com/connect/accounts-v2).
 */
export function missingChargeCapability(
  configurations: Record<string, AccountConfiguration>,
  kind: ChargeKind,
  onBehalfOf: boolean,
): string | null {
  const status = (config: string, capability: string) =>
    configurations[config]?.applied !== false
      ? configurations[config]?.capabilities?.[capability]
      : undefined;
  const merchantCards = status('merchant', 'card_payments') === 'active';
  if (kind === 'direct' || onBehalfOf) return merchantCards ? null : 'merchant.card_payments';
  return status('recipient', 'stripe_balance.stripe_transfers') === 'active'
    ? null
    : 'recipient.stripe_balance.stripe_transfers';
}

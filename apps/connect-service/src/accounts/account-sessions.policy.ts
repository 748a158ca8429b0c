import type { Role } from '@app/auth';

const ACCOUNT = ['disable_stripe_user_authentication', 'external_account_collection'];
const PAYOUTS = [...ACCOUNT, 'edit_payout_schedule', 'instant_payouts', 'standard_payouts'];
const PAYMENTS = [
  'capture_payments',
  'destination_on_behalf_of_charge_management',
  'dispute_management',
  'refund_management',
  'smart_disputes_management',
];
const ISSUING = [
  'card_management',
  'card_spend_dispute_management',
  'cardholder_management',
  'spend_control_management',
];

/** Stripe's embedded components and their features (https://docs.stripe.com/connect/supported-embedded-components). */
export const COMPONENT_FEATURES: Record<string, string[]> = {
  account_onboarding: ACCOUNT,
  account_management: ACCOUNT,
  notification_banner: ACCOUNT,
  balances: PAYOUTS,
  payouts: PAYOUTS,
  instant_payouts_promotion: [...ACCOUNT, 'instant_payouts'],
  payments: PAYMENTS,
  payment_details: PAYMENTS,
  disputes_list: PAYMENTS,
  payment_disputes: PAYMENTS.filter((f) => f !== 'capture_payments'),
  payment_method_settings: ['disable_stripe_user_authentication'],
  financial_account: [...ACCOUNT, 'send_money', 'transfer_balance'],
  financial_account_transactions: ['card_spend_dispute_management'],
  issuing_card: ISSUING,
  issuing_cards_list: [...ISSUING, 'disable_stripe_user_authentication'],
  balance_report: [],
  documents: [],
  payout_details: [],
  payout_reconciliation_report: [],
  payouts_list: [],
  reporting_chart: [],
  tax_registrations: [],
  tax_settings: [],
  terminal_hardware_orders: [],
  terminal_hardware_shop: [],
};

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, platform: 3 };

/** The least role that may open a component: reading money is for everyone, changing the account for admins. */
const COMPONENT_ROLE: Record<string, Role> = {
  payment_method_settings: 'operator',
  issuing_card: 'operator',
  issuing_cards_list: 'operator',
  account_onboarding: 'admin',
  account_management: 'admin',
  instant_payouts_promotion: 'admin',
  financial_account: 'admin',
  tax_settings: 'admin',
  terminal_hardware_orders: 'admin',
  terminal_hardware_shop: 'admin',
};

/** The least role a feature may be `true` for; below it the service sends `false`. */
const FEATURE_ROLE: Record<string, Role> = {
  capture_payments: 'operator',
  refund_management: 'operator',
  dispute_management: 'operator',
  smart_disputes_management: 'operator',
  destination_on_behalf_of_charge_management: 'operator',
  card_spend_dispute_management: 'operator',
  instant_payouts: 'admin',
  edit_payout_schedule: 'admin',
  standard_payouts: 'admin',
  external_account_collection: 'admin',
  send_money: 'admin',
  transfer_balance: 'admin',
  card_management: 'admin',
  cardholder_management: 'admin',
  spend_control_management: 'admin',
  disable_stripe_user_authentication: 'admin',
};

export interface SessionRefusal {
  component: string;
  feature?: string;
  reason: string;
}

export interface SessionGrant {
  components: Record<string, { enabled: true; features: Record<string, boolean> }>;
  refused: SessionRefusal[];
}

/**
 * The policy: a caller gets a component when its role reaches the component's role, and each feature as asked
 * (or Stripe's default) when its role reaches the feature's role, else `false`. Two features are tied to who
 * collects requirements (`controller.requirement_collection`, v2 `requirements_collector`): turning on
 * `disable_stripe_user_authentication` or turning off `external_account_collection` needs `application`. A role
 * that may not add bank accounts therefore gets no component that collects them on accounts where Stripe collects.
 */
export function grantComponents(
  role: Role,
  requested: Record<string, { features?: Record<string, boolean> } | undefined>,
  requirementsCollector: string | null,
): SessionGrant {
  const grant: SessionGrant = { components: {}, refused: [] };
  const platformCollects = requirementsCollector === 'application';
  for (const [component, ask] of Object.entries(requested)) {
    const known = COMPONENT_FEATURES[component];
    const minimum = COMPONENT_ROLE[component] ?? 'viewer';
    if (RANK[role] < RANK[minimum]) {
      grant.refused.push({ component, reason: `needs the ${minimum} role` });
      continue;
    }
    const features: Record<string, boolean> = {};
    let refusedWhole: string | null = null;
    for (const feature of known) {
      const asked = ask?.features?.[feature];
      const featureRole = FEATURE_ROLE[feature] ?? 'viewer';
      const allowedByRole = RANK[role] >= RANK[featureRole];
      if (feature === 'external_account_collection') {
        if (allowedByRole && asked !== false) continue;
        if (platformCollects) features[feature] = false;
        else if (asked === false)
          grant.refused.push({
            component,
            feature,
            reason: 'can be turned off only where the platform collects requirements',
          });
        else
          refusedWhole = `collects bank accounts (external_account_collection), which needs the ${featureRole} role on this account`;
        continue;
      }
      if (feature === 'disable_stripe_user_authentication' && asked === true && !platformCollects) {
        grant.refused.push({ component, feature, reason: 'needs the platform to collect requirements' });
        continue;
      }
      if (!allowedByRole) {
        features[feature] = false;
        if (asked === true)
          grant.refused.push({ component, feature, reason: `needs the ${featureRole} role` });
        continue;
      }
      if (asked !== undefined) features[feature] = asked;
    }
    for (const feature of Object.keys(ask?.features ?? {})) {
      if (!known.includes(feature))
        grant.refused.push({ component, feature, reason: 'not a feature of this component' });
    }
    if (refusedWhole) {
      grant.refused.push({ component, reason: refusedWhole });
      continue;
    }
    grant.components[component] = { enabled: true, features };
  }
  return grant;
}

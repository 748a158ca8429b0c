import { EmulatorState, Route } from '../context';
import { invalidRequest, missingParam, resourceMissing } from '../errors';
import { nowSeconds, randomToken } from '../ids';
import { isRecord, reqString } from '../params';
import { StripeObject } from '../store';

/**
 * Account Sessions for embedded components (https://docs.stripe.com/api/account_sessions/create): the 25
 * components of stripe-node 23 and their features, Stripe's defaults and the rules tied to who collects
 * requirements. The client_secret works once and expires (`account_session_ttl_seconds`).
 */

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

export const COMPONENT_FEATURES: Record<string, string[]> = {
  account_management: ACCOUNT,
  account_onboarding: ACCOUNT,
  balance_report: [],
  balances: PAYOUTS,
  disputes_list: PAYMENTS,
  documents: [],
  financial_account: [...ACCOUNT, 'send_money', 'transfer_balance'],
  financial_account_transactions: ['card_spend_dispute_management'],
  instant_payouts_promotion: [...ACCOUNT, 'instant_payouts'],
  issuing_card: ISSUING,
  issuing_cards_list: [...ISSUING, 'disable_stripe_user_authentication'],
  notification_banner: ACCOUNT,
  payment_details: PAYMENTS,
  payment_disputes: PAYMENTS.filter((f) => f !== 'capture_payments'),
  payment_method_settings: ['disable_stripe_user_authentication'],
  payments: PAYMENTS,
  payout_details: [],
  payout_reconciliation_report: [],
  payouts: PAYOUTS,
  payouts_list: [],
  reporting_chart: [],
  tax_registrations: [],
  tax_settings: [],
  terminal_hardware_orders: [],
  terminal_hardware_shop: [],
};

/** Who collects requirements and who is liable for losses: the controller, or what the legacy type implies. */
export function responsibilitiesOf(account: StripeObject): { requirements: string; losses: string } {
  const controller = (account.controller ?? {}) as Record<string, unknown>;
  const losses = (controller.losses as { payments?: string } | undefined)?.payments;
  return {
    requirements:
      (controller.requirement_collection as string | undefined) ??
      (account.type === 'custom' ? 'application' : 'stripe'),
    losses: losses ?? (account.type === 'standard' ? 'stripe' : 'application'),
  };
}

function bool(value: unknown, param: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${String(value)}`, { param });
}

/** Stripe's default for a feature left out (SDK doc comments of `AccountSessionCreateParams`). */
function defaultFeature(feature: string, given: Record<string, boolean>, losses: string): boolean {
  switch (feature) {
    case 'external_account_collection':
    case 'capture_payments':
    case 'dispute_management':
    case 'refund_management':
      return true;
    case 'disable_stripe_user_authentication':
      return !(given.external_account_collection ?? true);
    case 'edit_payout_schedule':
    case 'standard_payouts':
    case 'instant_payouts':
      return losses === 'stripe';
    case 'smart_disputes_management':
      return given.dispute_management ?? true;
    default:
      return false;
  }
}

function resolveComponent(
  name: string,
  raw: unknown,
  account: StripeObject,
): { enabled: boolean; features: Record<string, boolean> } {
  const at = `components[${name}]`;
  if (!isRecord(raw)) throw invalidRequest(`Invalid object`, { param: at });
  for (const key of Object.keys(raw)) {
    if (key !== 'enabled' && key !== 'features')
      throw invalidRequest(`Received unknown parameter: ${at}[${key}]`, {
        code: 'parameter_unknown',
        param: `${at}[${key}]`,
      });
  }
  if (raw.enabled === undefined || raw.enabled === '') throw missingParam(`${at}[enabled]`);
  const enabled = bool(raw.enabled, `${at}[enabled]`);
  const given: Record<string, boolean> = {};
  if (raw.features !== undefined && raw.features !== '') {
    if (!isRecord(raw.features)) throw invalidRequest('Invalid object', { param: `${at}[features]` });
    for (const [feature, value] of Object.entries(raw.features)) {
      const param = `${at}[features][${feature}]`;
      if (!COMPONENT_FEATURES[name].includes(feature))
        throw invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
      given[feature] = bool(value, param);
    }
  }
  const { requirements, losses } = responsibilitiesOf(account);
  if (requirements !== 'application') {
    if (given.disable_stripe_user_authentication === true) {
      throw invalidRequest(
        '`disable_stripe_user_authentication` can only be `true` for accounts where `controller.requirement_collection` is `application`.',
        { param: `${at}[features][disable_stripe_user_authentication]` },
      );
    }
    if (given.external_account_collection === false) {
      throw invalidRequest(
        '`external_account_collection` can only be `false` for accounts where the platform collects requirements (`controller.requirement_collection` is `application`).',
        { param: `${at}[features][external_account_collection]` },
      );
    }
  }
  const features: Record<string, boolean> = {};
  for (const f of COMPONENT_FEATURES[name]) features[f] = given[f] ?? defaultFeature(f, given, losses);
  return { enabled, features };
}

export function accountSessionsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/account_sessions',
      handler: (ctx) => {
        const accountId = reqString(ctx.params, 'account');
        const requested = ctx.params.components;
        if (requested === undefined || requested === '') throw missingParam('components');
        if (!isRecord(requested)) throw invalidRequest('Invalid object', { param: 'components' });
        for (const name of Object.keys(requested)) {
          if (!COMPONENT_FEATURES[name]) {
            throw invalidRequest(`Received unknown parameter: components[${name}]`, {
              code: 'parameter_unknown',
              param: `components[${name}]`,
            });
          }
        }
        const account = ctx.isPlatform ? ctx.emu.connectedAccount(accountId) : undefined;
        if (!account) throw resourceMissing('account', accountId, 'account');
        const components: Record<string, unknown> = {};
        for (const name of Object.keys(COMPONENT_FEATURES)) {
          components[name] =
            name in requested
              ? resolveComponent(name, requested[name], account)
              : resolveComponent(name, { enabled: 'false' }, account);
        }
        const clientSecret = `${accountId.replace(/^acct_/, 'accs_secret__')}${randomToken(32)}`;
        const expiresAt = nowSeconds() + ctx.emu.settings.account_session_ttl_seconds;
        ctx.emu.accountSessions.set(clientSecret, { account: accountId, components, expiresAt, used: false });
        return {
          body: {
            object: 'account_session',
            account: accountId,
            client_secret: clientSecret,
            components,
            expires_at: expiresAt,
            livemode: false,
          },
        };
      },
    },
  ];
}

/**
 * What Connect.js does with a client_secret: claims the session once. Answers the session, or why it
 * cannot be used ('unknown' | 'used' | 'expired').
 */
export function claimAccountSession(
  emu: EmulatorState,
  clientSecret: string,
): { account: string; components: Record<string, unknown> } | 'unknown' | 'used' | 'expired' {
  const grant = emu.accountSessions.get(clientSecret);
  if (!grant) return 'unknown';
  if (grant.used) return 'used';
  if (grant.expiresAt <= nowSeconds()) return 'expired';
  grant.used = true;
  return { account: grant.account, components: grant.components };
}

import { isRecord, Params } from '../params';
import { StripeObject } from '../store';
import { invalidField, iso } from './v2-common';

/**
 * A v2 Account is stored as the v1 `account` object every other endpoint already uses (payments, transfers,
 * the controls), plus what only v2 has (configurations, responsibilities, identity...). Both views render
 * from the same state, as Stripe describes: "the response is structured as a v1 Account, but any updates
 * still apply to the corresponding properties of the v2 object". https://docs.stripe.com/connect/accounts-v2
 */

export const CONFIGS = ['customer', 'merchant', 'recipient'] as const;
export type ConfigName = (typeof CONFIGS)[number];
export type Dashboard = 'express' | 'full' | 'none';
export const FEES_COLLECTORS = [
  'application',
  'application_custom',
  'application_express',
  'stripe',
] as const;
export const LOSSES_COLLECTORS = ['application', 'stripe'] as const;

/** Merchant payment capabilities a request may ask for (SDK 23 `AccountCreateParams`); v1 uses the same names. */
export const MERCHANT_CAPABILITIES = [
  'ach_debit_payments', 'acss_debit_payments', 'affirm_payments', 'afterpay_clearpay_payments', 'alma_payments',
  'amazon_pay_payments', 'au_becs_debit_payments', 'bacs_debit_payments', 'bancontact_payments', 'blik_payments',
  'boleto_payments', 'card_payments', 'cartes_bancaires_payments', 'cashapp_payments', 'eps_payments',
  'fpx_payments', 'gb_bank_transfer_payments', 'grabpay_payments', 'ideal_payments', 'jcb_payments',
  'jp_bank_transfer_payments', 'kakao_pay_payments', 'klarna_payments', 'konbini_payments', 'kr_card_payments',
  'link_payments', 'mobilepay_payments', 'multibanco_payments', 'mx_bank_transfer_payments', 'naver_pay_payments',
  'oxxo_payments', 'p24_payments', 'pay_by_bank_payments', 'payco_payments', 'paynow_payments',
  'promptpay_payments', 'revolut_pay_payments', 'samsung_pay_payments', 'sepa_bank_transfer_payments',
  'sepa_debit_payments', 'swish_payments', 'twint_payments', 'us_bank_transfer_payments', 'zip_payments',
]; // prettier-ignore

const REQUESTABLE: Record<ConfigName, string[]> = {
  merchant: MERCHANT_CAPABILITIES,
  recipient: [
    'stripe_balance.stripe_transfers',
    'cards',
    ...['ach', 'fedwire', 'fps', 'local', 'rtp', 'sepa', 'swift'].map((b) => `bank_accounts.${b}`),
  ],
  customer: ['automatic_indirect_tax'],
};

export interface V2Config {
  applied: boolean;
  /** Requested capabilities, v2 names (`stripe_balance.stripe_transfers`). */
  capabilities: string[];
  /** The configuration's other properties (mcc, branding, billing...), kept as given. */
  settings: Record<string, unknown>;
}

export interface V2AccountData {
  configs: Partial<Record<ConfigName, V2Config>>;
  dashboard: Dashboard;
  fees_collector: string;
  losses_collector: string;
  display_name: string | null;
  contact_email: string | null;
  contact_phone: string | null;
  identity: Record<string, unknown>;
  defaults: Record<string, unknown>;
  closed: boolean;
  created: string;
}

export interface CapabilityStatus {
  status: 'active' | 'pending' | 'rejected' | 'restricted' | 'unsupported';
  status_details: Array<{ code: string; resolution: string }>;
}

/** The v1 capability a v2 one stands for, when there is one (the rest follow the account's state). */
export function v1CapabilityName(config: ConfigName, name: string): string | null {
  if (config === 'merchant' && MERCHANT_CAPABILITIES.includes(name)) return name;
  if (config === 'recipient' && name === 'stripe_balance.stripe_transfers') return 'transfers';
  return null;
}

/** `{card_payments: {requested: true}, stripe_balance: {stripe_transfers: {requested: true}}}` → name → requested. */
export function parseCapabilityRequests(config: ConfigName, raw: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const prefix = `configuration.${config}.capabilities`;
  const walk = (value: unknown, path: string): void => {
    if (!isRecord(value)) throw invalidField(`${prefix}.${path}`, `${prefix}.${path} must be an object.`);
    if ('requested' in value) {
      if (!REQUESTABLE[config].includes(path)) {
        throw invalidField(
          `${prefix}.${path}`,
          `${path} is not a capability of the ${config} configuration.`,
        );
      }
      if (typeof value.requested !== 'boolean') {
        throw invalidField(`${prefix}.${path}.requested`, `${prefix}.${path}.requested must be a boolean.`);
      }
      out[path] = value.requested;
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  if (raw !== undefined) {
    if (!isRecord(raw)) throw invalidField(prefix, `${prefix} must be an object.`);
    for (const [k, v] of Object.entries(raw)) walk(v, k);
  }
  return out;
}

/** The capabilities an account's applied configurations carry, automatic ones included. */
export function requestedCapabilities(data: V2AccountData): Array<{ config: ConfigName; name: string }> {
  const out: Array<{ config: ConfigName; name: string }> = [];
  for (const config of CONFIGS) {
    const c = data.configs[config];
    if (!c?.applied) continue;
    for (const name of c.capabilities) out.push({ config, name });
    // Merchant "includes the card_payments and stripe_balance.payouts capabilities" (https://docs.stripe.com/connect/accounts-v2).
    const autoPayouts =
      config === 'merchant' ||
      (config === 'recipient' && c.capabilities.includes('stripe_balance.stripe_transfers'));
    if (autoPayouts && !c.capabilities.includes('stripe_balance.payouts'))
      out.push({ config, name: 'stripe_balance.payouts' });
  }
  return out;
}

export function appliedConfigurations(data: V2AccountData): ConfigName[] {
  return CONFIGS.filter((c) => data.configs[c]?.applied);
}

/** Onboarded, nothing past due, not rejected: a capability requested now is active at once. */
export function isVerified(account: StripeObject): boolean {
  const r = account.requirements as Record<string, unknown>;
  return account.details_submitted === true && !r.disabled_reason && (r.past_due as string[]).length === 0;
}

/** Keeps the v1 `capabilities` map equal to what the applied configurations request. */
export function syncV1Capabilities(account: StripeObject, data: V2AccountData): void {
  const caps = account.capabilities as Record<string, string>;
  const wanted = new Set<string>();
  for (const { config, name } of requestedCapabilities(data)) {
    const v1 = v1CapabilityName(config, name);
    if (v1) wanted.add(v1);
  }
  const managed = new Set([...MERCHANT_CAPABILITIES, 'transfers']);
  for (const name of Object.keys(caps)) if (managed.has(name) && !wanted.has(name)) delete caps[name];
  for (const name of wanted) if (!caps[name]) caps[name] = isVerified(account) ? 'active' : 'inactive';
}

function rejectedCode(reason: string): string {
  const code = reason.replace(/^rejected\./, 'rejected_');
  return ['rejected_fraud', 'rejected_terms_of_service', 'rejected_listed'].includes(code)
    ? code
    : 'rejected_other';
}

/** A v2 capability's status, read from the v1 state it shares (v1 `inactive` is v2 `restricted`). */
export function capabilityStatus(account: StripeObject, config: ConfigName, name: string): CapabilityStatus {
  const r = account.requirements as Record<string, unknown>;
  const disabled = typeof r.disabled_reason === 'string' ? r.disabled_reason : '';
  if (disabled.startsWith('rejected')) {
    return {
      status: 'rejected',
      status_details: [{ code: rejectedCode(disabled), resolution: 'contact_stripe' }],
    };
  }
  const caps = account.capabilities as Record<string, string>;
  const v1 = v1CapabilityName(config, name);
  const state = v1
    ? (caps[v1] ?? 'inactive')
    : name === 'stripe_balance.payouts'
      ? account.payouts_enabled
        ? 'active'
        : 'inactive'
      : config === 'recipient'
        ? (caps.transfers ?? (account.payouts_enabled ? 'active' : 'inactive'))
        : 'active';
  if (state === 'active') return { status: 'active', status_details: [] };
  if (state === 'pending') {
    return {
      status: 'pending',
      status_details: [{ code: 'requirements_pending_verification', resolution: 'no_resolution' }],
    };
  }
  const pastDue = (r.past_due as string[]).length > 0 || account.details_submitted !== true;
  return {
    status: 'restricted',
    status_details: [
      { code: pastDue ? 'requirements_past_due' : 'restricted_other', resolution: 'provide_info' },
    ],
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const k of keys.slice(0, -1)) at = (at[k] = isRecord(at[k]) ? at[k] : {}) as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
}

/** Every capability of every configuration with its status, keyed `config:name`. */
export function capabilityStatuses(
  account: StripeObject,
  data: V2AccountData,
): Record<string, CapabilityStatus> {
  const out: Record<string, CapabilityStatus> = {};
  for (const { config, name } of requestedCapabilities(data))
    out[`${config}:${name}`] = capabilityStatus(account, config, name);
  return out;
}

const URGENCY = ['eventually_due', 'currently_due', 'past_due'];

/** v2 `requirements`: one entry per field, from the v1 arrays both views share. */
export function v2Requirements(account: StripeObject, data: V2AccountData): Record<string, unknown> {
  const r = account.requirements as Record<string, unknown>;
  const list = (k: string): string[] => (Array.isArray(r[k]) ? (r[k] as string[]) : []);
  const past = new Set(list('past_due'));
  const current = new Set(list('currently_due'));
  const pending = new Set(list('pending_verification'));
  const fields = [...new Set([...past, ...current, ...list('eventually_due'), ...pending])];
  const errors = (Array.isArray(r.errors) ? r.errors : []) as Array<Record<string, string>>;
  const restricts = requestedCapabilities(data);
  const entries = fields.map((description) => {
    const status = past.has(description)
      ? 'past_due'
      : current.has(description) || pending.has(description)
        ? 'currently_due'
        : 'eventually_due';
    return {
      awaiting_action_from: pending.has(description) && !current.has(description) ? 'stripe' : 'user',
      description,
      errors: errors
        .filter((e) => e.requirement === description)
        .map((e) => ({ code: e.code, description: e.reason })),
      impact: {
        restricts_capabilities: restricts.map(({ config, name }) => ({
          capability: name,
          configuration: config,
          deadline: { status },
        })),
      },
      minimum_deadline: { status },
      requested_reasons: [
        { code: account.details_submitted ? 'routine_verification' : 'routine_onboarding' },
      ],
    };
  });
  const worst = entries.reduce((w, e) => Math.max(w, URGENCY.indexOf(e.minimum_deadline.status)), -1);
  const deadline = typeof r.current_deadline === 'number' ? iso(r.current_deadline * 1000) : undefined;
  return {
    entries,
    summary:
      worst < 0
        ? undefined
        : { minimum_deadline: { status: URGENCY[worst], ...(deadline ? { time: deadline } : {}) } },
  };
}

function requirementsCollector(data: V2AccountData): 'application' | 'stripe' {
  return data.dashboard === 'none' && data.losses_collector === 'application' ? 'application' : 'stripe';
}

/** The v1 `controller` the responsibilities and dashboard map to (https://docs.stripe.com/connect/accounts-v2). */
export function controllerOf(data: V2AccountData): Record<string, unknown> {
  return {
    fees: { payer: data.fees_collector === 'stripe' ? 'account' : data.fees_collector },
    losses: { payments: data.losses_collector },
    requirement_collection: requirementsCollector(data),
    stripe_dashboard: { type: data.dashboard },
  };
}

function renderConfig(
  account: StripeObject,
  data: V2AccountData,
  config: ConfigName,
): Record<string, unknown> {
  const c = data.configs[config] as V2Config;
  const capabilities: Record<string, unknown> = {};
  if (c.applied) {
    for (const r of requestedCapabilities(data).filter((x) => x.config === config))
      setPath(capabilities, r.name, capabilityStatus(account, config, r.name));
  }
  return { ...structuredClone(c.settings), applied: c.applied, capabilities };
}

/** The `v2.core.account` object; sections outside `include` are null, as v2 answers them. */
export function renderV2Account(
  account: StripeObject,
  data: V2AccountData,
  include: Set<string> = new Set(),
): StripeObject {
  const configuration: Record<string, unknown> = {};
  for (const config of CONFIGS) {
    if (include.has(`configuration.${config}`) && data.configs[config])
      configuration[config] = renderConfig(account, data, config);
  }
  const anyConfig = CONFIGS.some((c) => include.has(`configuration.${c}`));
  return {
    id: account.id,
    object: 'v2.core.account',
    applied_configurations: appliedConfigurations(data),
    closed: data.closed,
    configuration: anyConfig ? configuration : null,
    contact_email: data.contact_email,
    contact_phone: data.contact_phone,
    created: data.created,
    dashboard: data.dashboard,
    defaults: include.has('defaults')
      ? {
          ...structuredClone(data.defaults),
          responsibilities: {
            fees_collector: data.fees_collector,
            losses_collector: data.losses_collector,
            requirements_collector: requirementsCollector(data),
          },
        }
      : null,
    display_name: data.display_name,
    future_requirements: include.has('future_requirements') ? { entries: [] } : null,
    identity: include.has('identity') ? structuredClone(data.identity) : null,
    livemode: false,
    metadata: account.metadata,
    requirements: include.has('requirements') ? v2Requirements(account, data) : null,
  };
}

/** The v1 fields a v2 account's own fields stand behind (kept in step on create and update). */
export function v1FieldsOf(data: V2AccountData, params: Params = {}): Record<string, unknown> {
  const merchant = data.configs.merchant?.settings ?? {};
  const profile = isRecord(data.defaults.profile) ? data.defaults.profile : {};
  return {
    ...params,
    business_type: data.identity.entity_type ?? null,
    country: data.identity.country,
    default_currency: data.defaults.currency ?? 'usd',
    email: data.contact_email,
    business_profile: {
      name: data.display_name,
      mcc: merchant.mcc ?? null,
      url: profile.business_url ?? null,
      product_description: profile.product_description ?? null,
    },
  };
}

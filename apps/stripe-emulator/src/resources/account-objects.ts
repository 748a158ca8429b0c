import { newId, nowSeconds } from '../ids';
import { isRecord, mergeMetadata, Params } from '../params';
import { StripeObject } from '../store';

/** Shapes follow Stripe's Account object, API 2023-08-16 (https://docs.stripe.com/api/accounts/object). */

export type VerificationAction = 'complete' | 'restrict' | 'reject' | 'require_more';

const ONBOARDING_DUE: Record<string, string[]> = {
  standard: ['business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
  express: [
    'business_profile.mcc',
    'business_profile.url',
    'business_type',
    'external_account',
    'individual.first_name',
    'individual.last_name',
    'tos_acceptance.date',
    'tos_acceptance.ip',
  ],
  custom: [
    'business_profile.mcc',
    'business_profile.url',
    'business_type',
    'external_account',
    'individual.dob.day',
    'individual.first_name',
    'individual.last_name',
    'individual.ssn_last_4',
    'tos_acceptance.date',
    'tos_acceptance.ip',
  ],
};

function emptyRequirements(): Record<string, unknown> {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: [],
    disabled_reason: null,
    errors: [],
    eventually_due: [],
    past_due: [],
    pending_verification: [],
  };
}

function typeFromController(controller: Params | undefined): string | undefined {
  if (!controller) return undefined;
  const dashboard = isRecord(controller.stripe_dashboard) ? controller.stripe_dashboard.type : undefined;
  if (dashboard === 'express') return 'express';
  if (dashboard === 'none') return 'custom';
  if (dashboard === 'full') return 'standard';
  return controller.requirement_collection === 'application' ? 'custom' : 'standard';
}

function requestedCapabilities(params: Params): string[] {
  const caps = params.capabilities;
  if (!isRecord(caps)) return [];
  return Object.entries(caps)
    .filter(([, v]) => isRecord(v) && v.requested === 'true')
    .map(([k]) => k);
}

/** A deep merge of form params into an object (Stripe updates hashes key by key). */
export function deepMerge(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    out[k] =
      isRecord(v) && isRecord(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v === '' ? null : v;
  }
  return out;
}

export function buildAccount(params: Params): StripeObject {
  const type =
    (typeof params.type === 'string' ? params.type : undefined) ??
    typeFromController(isRecord(params.controller) ? params.controller : undefined) ??
    'standard';
  const due = [...(ONBOARDING_DUE[type] ?? ONBOARDING_DUE.custom)];
  const caps = requestedCapabilities(params);
  const capabilities: Record<string, string> = {};
  for (const c of caps.length > 0 ? caps : ['card_payments', 'transfers']) capabilities[c] = 'inactive';
  const id = newId('acct', 16);
  const country = typeof params.country === 'string' ? params.country.toUpperCase() : 'US';
  const businessProfile = deepMerge(
    {
      mcc: null,
      name: null,
      product_description: null,
      support_address: null,
      support_email: null,
      support_phone: null,
      support_url: null,
      url: null,
    },
    isRecord(params.business_profile) ? params.business_profile : {},
  );
  return {
    id,
    object: 'account',
    business_profile: businessProfile,
    business_type: typeof params.business_type === 'string' ? params.business_type : null,
    capabilities,
    charges_enabled: false,
    controller: {
      type: 'application',
      is_controller: true,
      ...(isRecord(params.controller) ? params.controller : {}),
    },
    country,
    created: nowSeconds(),
    default_currency: typeof params.default_currency === 'string' ? params.default_currency : 'usd',
    details_submitted: false,
    email: typeof params.email === 'string' ? params.email : null,
    external_accounts: {
      object: 'list',
      data: [],
      has_more: false,
      url: `/v1/accounts/${id}/external_accounts`,
    },
    future_requirements: emptyRequirements(),
    metadata: mergeMetadata({}, params.metadata),
    payouts_enabled: false,
    requirements: {
      ...emptyRequirements(),
      currently_due: due,
      eventually_due: [...due],
      disabled_reason: 'requirements.past_due',
    },
    settings: deepMerge(
      {
        branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
        card_payments: {
          decline_on: { avs_failure: false, cvc_failure: false },
          statement_descriptor_prefix: null,
        },
        dashboard: { display_name: null, timezone: 'Etc/UTC' },
        payments: { statement_descriptor: null },
        payouts: {
          debit_negative_balances: true,
          schedule: { delay_days: 2, interval: 'daily' },
          statement_descriptor: null,
        },
      },
      isRecord(params.settings) ? params.settings : {},
    ),
    tos_acceptance: deepMerge(
      { date: null, ip: null, user_agent: null },
      isRecord(params.tos_acceptance) ? params.tos_acceptance : {},
    ),
    type,
  };
}

/** Fully onboarded and verified: what an OAuth-connected Standard account looks like. */
export function buildVerifiedAccount(
  type = 'standard',
  overrides: Record<string, unknown> = {},
): StripeObject {
  const account = buildAccount({ type });
  applyVerification(account, 'complete');
  account.controller = { type: 'account' };
  account.email = `owner-${account.id.slice(5, 11).toLowerCase()}@example.com`;
  return Object.assign(account, deepMerge(account, overrides), { id: account.id, object: 'account' });
}

export function buildPlatformAccount(): StripeObject {
  const account = buildVerifiedAccount('standard', {
    email: 'platform@example.com',
    business_profile: { name: 'Emulated Platform' },
  });
  (account.settings as Record<string, Record<string, unknown>>).dashboard.display_name = 'Emulated Platform';
  return account;
}

const ACCOUNT_STATUS_FIELDS = [
  'charges_enabled',
  'payouts_enabled',
  'details_submitted',
  'requirements',
  'capabilities',
];

/**
 * Moves an account's verification (control API, account links, reject). Returns the previous values of
 * what changed (for the event's previous_attributes) and the capabilities whose status changed.
 */
export function applyVerification(
  account: StripeObject,
  action: VerificationAction,
  reason?: string,
): { previous: Record<string, unknown>; changedCapabilities: string[] } {
  const before = structuredClone(Object.fromEntries(ACCOUNT_STATUS_FIELDS.map((f) => [f, account[f]])));
  const caps = account.capabilities as Record<string, string>;
  const setCaps = (status: string): void => {
    for (const c of Object.keys(caps)) caps[c] = status;
  };
  const requirements = account.requirements as Record<string, unknown>;
  switch (action) {
    case 'complete':
      Object.assign(account, { charges_enabled: true, payouts_enabled: true, details_submitted: true });
      account.requirements = emptyRequirements();
      if (
        account.tos_acceptance &&
        isRecord(account.tos_acceptance) &&
        account.tos_acceptance.date === null
      ) {
        account.tos_acceptance = { ...account.tos_acceptance, date: nowSeconds(), ip: '127.0.0.1' };
      }
      setCaps('active');
      break;
    case 'restrict': {
      const due = ['external_account', 'individual.verification.document'];
      account.requirements = {
        ...emptyRequirements(),
        currently_due: due,
        eventually_due: [...due],
        past_due: [...due],
        disabled_reason: 'requirements.past_due',
      };
      Object.assign(account, { charges_enabled: false, payouts_enabled: false });
      setCaps('inactive');
      break;
    }
    case 'reject':
      account.requirements = {
        ...emptyRequirements(),
        disabled_reason: reason
          ? reason.startsWith('rejected.')
            ? reason
            : `rejected.${reason}`
          : 'rejected.fraud',
      };
      Object.assign(account, { charges_enabled: false, payouts_enabled: false });
      setCaps('inactive');
      break;
    case 'require_more': {
      const due = ['individual.verification.document'];
      account.requirements = {
        ...requirements,
        currently_due: due,
        eventually_due: [...due],
        past_due: [],
        current_deadline: nowSeconds() + 7 * 24 * 3600,
        disabled_reason: null,
      };
      break;
    }
  }
  const previous: Record<string, unknown> = {};
  for (const f of ACCOUNT_STATUS_FIELDS) {
    if (JSON.stringify(before[f]) !== JSON.stringify(account[f])) previous[f] = before[f];
  }
  const beforeCaps = before.capabilities as Record<string, string>;
  const changedCapabilities = Object.keys(caps).filter((c) => beforeCaps[c] !== caps[c]);
  return { previous, changedCapabilities };
}

/** The `capability` object of capability.updated events. */
export function capabilityObject(account: StripeObject, name: string): StripeObject {
  const status = (account.capabilities as Record<string, string>)[name];
  return {
    id: name,
    object: 'capability',
    account: account.id,
    future_requirements: emptyRequirements(),
    requested: true,
    requested_at: account.created,
    requirements: structuredClone(account.requirements),
    status,
  };
}

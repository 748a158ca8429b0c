import { emitEvent, RequestContext, Route } from '../context';
import { isRecord, Params } from '../params';
import { StripeObject } from '../store';
import { buildAccount } from './account-objects';
import {
  appliedConfigurations,
  CONFIGS,
  ConfigName,
  controllerOf,
  Dashboard,
  FEES_COLLECTORS,
  LOSSES_COLLECTORS,
  MERCHANT_CAPABILITIES,
  parseCapabilityRequests,
  renderV2Account,
  syncV1Capabilities,
  V2AccountData,
  v1FieldsOf,
} from './v2-account-model';
import { emitAccountEvent } from './v2-events';
import {
  includes,
  invalidField,
  iso,
  mergeV2Metadata,
  optBoolean,
  optEnum,
  optList,
  optStr,
  v2Error,
  v2List,
  v2NotFound,
} from './v2-common';

/** Accounts v2: https://docs.stripe.com/api/v2/core/accounts (shapes from stripe-node 23's types). */

const INCLUDES = [
  'configuration.customer',
  'configuration.merchant',
  'configuration.recipient',
  'defaults',
  'future_requirements',
  'identity',
  'requirements',
];
const DASHBOARDS: readonly Dashboard[] = ['express', 'full', 'none'];
const ENTITY_TYPES = ['company', 'government_entity', 'individual', 'non_profit'];

/** Deep merge of a JSON patch: objects merge key by key, `null` removes a key. */
function mergeJson(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = isRecord(v) && isRecord(out[k]) ? mergeJson(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function objectParam(params: Params, name: string): Record<string, unknown> | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw invalidField(name, `${name} must be an object.`);
  return v;
}

/**
 * Responsibility rules Stripe documents: the platform can be liable for losses only when it also collects
 * fees; an account without a Stripe Dashboard needs the platform to hold both; a full Dashboard needs Stripe
 * liable for losses. https://docs.stripe.com/connect/accounts-v2 , https://docs.stripe.com/api/accounts/create#create_account-controller
 */
function checkResponsibilities(data: V2AccountData): void {
  const param = 'defaults.responsibilities';
  if (data.losses_collector === 'application' && data.fees_collector === 'stripe') {
    throw invalidField(param, 'losses_collector `application` requires fees_collector `application`.');
  }
  if (
    data.dashboard === 'none' &&
    (data.fees_collector === 'stripe' || data.losses_collector !== 'application')
  ) {
    throw invalidField(
      param,
      'dashboard `none` requires fees_collector `application` and losses_collector `application`.',
    );
  }
  if (data.dashboard === 'full' && data.losses_collector !== 'stripe') {
    throw invalidField(param, 'dashboard `full` requires losses_collector `stripe`.');
  }
}

/** Applies create/update params to the v2 state; answers the sections that changed. */
function applyParams(data: V2AccountData, params: Params, creating: boolean): Set<string> {
  const changed = new Set<string>();
  const snapshot = (k: string): string => JSON.stringify((data as unknown as Record<string, unknown>)[k]);
  for (const key of ['display_name', 'contact_email', 'contact_phone'] as const) {
    if (params[key] === undefined) continue;
    const before = snapshot(key);
    data[key] = params[key] === null ? null : (optStr(params, key) ?? null);
    if (snapshot(key) !== before) changed.add('account');
  }
  const dashboard = optEnum(params, 'dashboard', DASHBOARDS);
  if (dashboard && dashboard !== data.dashboard) {
    data.dashboard = dashboard;
    changed.add('account');
  }
  const identity = objectParam(params, 'identity');
  if (identity) {
    const country = optStr(params, 'identity.country');
    if (country !== undefined && !/^[A-Za-z]{2}$/.test(country))
      throw invalidField('identity.country', 'identity.country must be an ISO 3166-1 alpha-2 code.');
    optEnum(params, 'identity.entity_type', ENTITY_TYPES);
    const before = snapshot('identity');
    data.identity = mergeJson(data.identity, {
      ...identity,
      ...(country ? { country: country.toUpperCase() } : {}),
    });
    if (snapshot('identity') !== before) changed.add('identity');
  }
  const defaults = objectParam(params, 'defaults');
  if (defaults) {
    const before = JSON.stringify([data.defaults, data.fees_collector, data.losses_collector]);
    const { responsibilities, ...rest } = defaults;
    if (responsibilities !== undefined) {
      data.fees_collector =
        optEnum(params, 'defaults.responsibilities.fees_collector', FEES_COLLECTORS) ?? '';
      data.losses_collector =
        optEnum(params, 'defaults.responsibilities.losses_collector', LOSSES_COLLECTORS) ?? '';
      for (const k of ['fees_collector', 'losses_collector'] as const) {
        if (!data[k])
          throw invalidField(`defaults.responsibilities.${k}`, `defaults.responsibilities.${k} is required.`);
      }
    }
    optList(params, 'defaults.locales');
    if (typeof rest.currency === 'string') rest.currency = rest.currency.toLowerCase();
    data.defaults = mergeJson(data.defaults, rest);
    if (JSON.stringify([data.defaults, data.fees_collector, data.losses_collector]) !== before)
      changed.add('defaults');
  }
  const configuration = objectParam(params, 'configuration');
  for (const [name, raw] of Object.entries(configuration ?? {})) {
    if (!CONFIGS.includes(name as ConfigName))
      throw invalidField(`configuration.${name}`, `configuration.${name} is not a configuration.`);
    if (raw === null) continue;
    if (!isRecord(raw))
      throw invalidField(`configuration.${name}`, `configuration.${name} must be an object.`);
    const config = name as ConfigName;
    const current = data.configs[config] ?? { applied: true, capabilities: [], settings: {} };
    const before = JSON.stringify(data.configs[config] ?? null);
    const { capabilities, applied, ...settings } = raw;
    if (applied !== undefined) {
      if (creating) throw invalidField(`configuration.${name}.applied`, 'applied can only be set on update.');
      current.applied = optBoolean(raw, 'applied') as boolean;
    }
    for (const [cap, requested] of Object.entries(parseCapabilityRequests(config, capabilities))) {
      current.capabilities = current.capabilities.filter((c) => c !== cap);
      if (requested) current.capabilities.push(cap);
    }
    current.settings = mergeJson(current.settings, settings);
    data.configs[config] = current;
    if (JSON.stringify(current) !== before) changed.add(`configuration.${config}`);
  }
  return changed;
}

function newData(): V2AccountData {
  return {
    configs: {},
    dashboard: 'full',
    fees_collector: 'stripe',
    losses_collector: 'stripe',
    display_name: null,
    contact_email: null,
    contact_phone: null,
    identity: { country: 'US' },
    defaults: {},
    closed: false,
    created: iso(),
  };
}

/** What v2 shows of an account created through v1 (https://docs.stripe.com/connect/accounts-v2/migrate-integration). */
function deriveFromV1(account: StripeObject): V2AccountData {
  const caps = Object.keys(account.capabilities as object);
  const controller = (account.controller ?? {}) as Record<string, Record<string, string> | undefined>;
  const type = String(account.type);
  const data = newData();
  data.dashboard = (controller.stripe_dashboard?.type ??
    (type === 'custom' ? 'none' : type === 'express' ? 'express' : 'full')) as Dashboard;
  // Legacy Express and Custom accounts: the platform pays Stripe's fees (`application_express`/`_custom`).
  const payer = controller.fees?.payer ?? (type === 'standard' ? 'account' : `application_${type}`);
  data.fees_collector = payer === 'account' ? 'stripe' : payer;
  data.losses_collector = controller.losses?.payments ?? (type === 'standard' ? 'stripe' : 'application');
  data.contact_email = (account.email as string | null) ?? null;
  const profile = (account.business_profile ?? {}) as Record<string, string | null>;
  data.display_name = profile.name ?? null;
  data.defaults = {
    currency: account.default_currency,
    profile: Object.fromEntries(
      [
        ['business_url', profile.url],
        ['product_description', profile.product_description],
      ].filter(([, v]) => v != null),
    ),
  };
  data.identity = { country: account.country, entity_type: account.business_type ?? undefined };
  data.created = iso(Number(account.created) * 1000);
  const merchant = caps.filter((c) => MERCHANT_CAPABILITIES.includes(c));
  if (merchant.length) {
    const settings = profile.mcc ? { mcc: profile.mcc } : {};
    data.configs.merchant = { applied: true, capabilities: merchant, settings };
  }
  if (caps.includes('transfers'))
    data.configs.recipient = {
      applied: true,
      capabilities: ['stripe_balance.stripe_transfers'],
      settings: {},
    };
  return data;
}

function requirePlatform(ctx: RequestContext): void {
  if (!ctx.isPlatform)
    throw v2Error(403, 'Only the platform can manage accounts.', { type: 'permission_error' });
}

/** The account and its v2 state: the platform's connected accounts, or the context's own account. */
export function v2Account(ctx: RequestContext, id: string): { account: StripeObject; data: V2AccountData } {
  const entry = ctx.emu.store.entry('account', id);
  const visible = entry && (ctx.isPlatform ? entry.owner === ctx.emu.platformId : id === ctx.owner);
  if (!entry || !visible || id === ctx.emu.platformId) throw v2NotFound('account', id);
  let data = ctx.emu.v2Accounts.get(id);
  if (!data) ctx.emu.v2Accounts.set(id, (data = deriveFromV1(entry.obj)));
  return { account: entry.obj, data };
}

/** Brings the v1 object in step with the v2 state; answers the v1 fields that changed, with their old values. */
function syncV1(account: StripeObject, data: V2AccountData): Record<string, unknown> {
  const keys = [
    'business_profile',
    'business_type',
    'capabilities',
    'controller',
    'country',
    'default_currency',
    'email',
  ];
  const old = structuredClone(Object.fromEntries(keys.map((k) => [k, account[k]])));
  const fields = v1FieldsOf(data);
  const profile = Object.entries(fields.business_profile as Record<string, unknown>).filter(
    ([, v]) => v != null,
  );
  account.business_profile = { ...(account.business_profile as object), ...Object.fromEntries(profile) };
  for (const k of ['business_type', 'country', 'default_currency', 'email'])
    account[k] = fields[k] ?? account[k];
  account.controller = { ...(account.controller as object), ...controllerOf(data) };
  syncV1Capabilities(account, data);
  const previous: Record<string, unknown> = {};
  for (const k of keys) if (JSON.stringify(old[k]) !== JSON.stringify(account[k])) previous[k] = old[k];
  if (previous.capabilities) {
    const was = old.capabilities as Record<string, string>;
    previous.capabilities = Object.fromEntries(
      Object.keys({ ...was, ...(account.capabilities as object) }).map((c) => [c, was[c] ?? null]),
    );
  }
  return previous;
}

function requestInfo(ctx: RequestContext): { requestId: string; idempotencyKey: string | null } {
  return { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey };
}

export function v2AccountsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v2/core/accounts',
      handler: (ctx) => {
        requirePlatform(ctx);
        const include = includes(ctx.params, INCLUDES);
        const data = newData();
        applyParams(data, ctx.params, true);
        checkResponsibilities(data);
        const metadata = mergeV2Metadata({}, ctx.params.metadata);
        const account = buildAccount({ ...v1FieldsOf(data), controller: controllerOf(data), metadata });
        account.capabilities = {};
        syncV1Capabilities(account, data);
        ctx.emu.store.put('account', ctx.emu.platformId, account);
        ctx.emu.v2Accounts.set(account.id, data);
        emitAccountEvent(ctx.emu, 'v2.core.account.created', account.id, requestInfo(ctx));
        return { body: renderV2Account(account, data, include) };
      },
    },
    {
      method: 'GET',
      path: '/v2/core/accounts',
      handler: (ctx) => {
        requirePlatform(ctx);
        const wanted = optList(ctx.params, 'applied_configurations') ?? [];
        const closed = optBoolean(ctx.params, 'closed') ?? false;
        const accounts = ctx.emu.store
          .list('account', ctx.emu.platformId, (a) => {
            const data = ctx.emu.v2Accounts.get(a.id);
            if (!data || data.closed !== closed) return false;
            const applied = appliedConfigurations(data) as string[];
            return wanted.every((c) => applied.includes(c));
          })
          .map((a) => renderV2Account(a, ctx.emu.v2Accounts.get(a.id) as V2AccountData));
        return { body: v2List(ctx.params, accounts, '/v2/core/accounts') };
      },
    },
    {
      method: 'GET',
      path: '/v2/core/accounts/:id',
      handler: (ctx) => {
        const { account, data } = v2Account(ctx, ctx.pathParams.id);
        return { body: renderV2Account(account, data, includes(ctx.params, INCLUDES)) };
      },
    },
    {
      method: 'POST',
      path: '/v2/core/accounts/:id',
      handler: (ctx) => {
        requirePlatform(ctx);
        const include = includes(ctx.params, INCLUDES);
        const { account, data } = v2Account(ctx, ctx.pathParams.id);
        if (data.closed) throw v2Error(400, 'This account is closed and can no longer be updated.');
        const next = structuredClone(data);
        const changed = applyParams(next, ctx.params, false);
        checkResponsibilities(next);
        Object.assign(data, next);
        const previous = syncV1(account, data);
        if (ctx.params.metadata !== undefined) {
          const before = account.metadata;
          account.metadata = mergeV2Metadata(account.metadata, ctx.params.metadata);
          if (JSON.stringify(before) !== JSON.stringify(account.metadata)) {
            previous.metadata = before;
            changed.add('account');
          }
        }
        for (const section of changed) {
          if (section !== 'account')
            emitAccountEvent(ctx.emu, `v2.core.account[${section}].updated`, account.id, requestInfo(ctx));
        }
        // The v1 account.updated carries the v2 account's own events with it (see onV1Event).
        if (changed.size > 0 || Object.keys(previous).length > 0)
          emitEvent(ctx, 'account.updated', account, account.id, previous);
        return { body: renderV2Account(account, data, include) };
      },
    },
    {
      method: 'POST',
      path: '/v2/core/accounts/:id/close',
      handler: (ctx) => {
        requirePlatform(ctx);
        const { account, data } = v2Account(ctx, ctx.pathParams.id);
        if (data.closed) throw v2Error(400, 'This account is already closed.');
        const applied = appliedConfigurations(data);
        const given = optList(ctx.params, 'applied_configurations') ?? [];
        if (given.length !== applied.length || !applied.every((c) => given.includes(c))) {
          throw invalidField(
            'applied_configurations',
            `All configurations on the Account must be passed in: ${applied.join(', ') || '(none)'}.`,
          );
        }
        data.closed = true;
        for (const c of Object.values(data.configs)) c.applied = false;
        // A closed account can no longer be operated on: nothing it could charge or receive stays enabled.
        const previous: Record<string, unknown> = {
          capabilities: { ...(account.capabilities as object) },
          charges_enabled: account.charges_enabled,
          payouts_enabled: account.payouts_enabled,
        };
        for (const c of Object.keys(account.capabilities as object))
          (account.capabilities as Record<string, string>)[c] = 'inactive';
        Object.assign(account, { charges_enabled: false, payouts_enabled: false });
        emitAccountEvent(ctx.emu, 'v2.core.account.closed', account.id, requestInfo(ctx));
        emitEvent(ctx, 'account.updated', account, account.id, previous);
        return { body: renderV2Account(account, data) };
      },
    },
  ];
}

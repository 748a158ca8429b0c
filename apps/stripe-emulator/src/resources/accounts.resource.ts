import { scheduleUpdate, setSchedule } from './manual-payouts.resource';
import { EmulatorState, emitEvent, RequestContext, Route } from '../context';
import { invalidRequest, resourceMissing, StripeApiError } from '../errors';
import { isRecord, mergeMetadata, optString } from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';
import { EventRequestInfo } from '../webhooks/delivery';
import {
  applyVerification,
  buildAccount,
  capabilityObject,
  deepMerge,
  VerificationAction,
} from './account-objects';

const ACCOUNT_TYPES = ['standard', 'express', 'custom'];
const UPDATABLE = [
  'business_profile',
  'business_type',
  'company',
  'default_currency',
  'email',
  'individual',
  'settings',
  'tos_acceptance',
];

/** account.updated (the connected account's event, so Connect endpoints get it) plus capability.updated. */
export function emitVerificationEvents(
  emu: EmulatorState,
  account: StripeObject,
  change: { previous: Record<string, unknown>; changedCapabilities: string[] },
  request: EventRequestInfo | null,
): void {
  if (Object.keys(change.previous).length === 0) return;
  emu.webhooks.emit('account.updated', account, account.id, request, change.previous);
  const before = (change.previous.capabilities ?? {}) as Record<string, string>;
  for (const name of change.changedCapabilities) {
    emu.webhooks.emit('capability.updated', capabilityObject(account, name), account.id, request, {
      status: before[name] ?? 'unrequested',
    });
  }
}

export function verify(
  emu: EmulatorState,
  account: StripeObject,
  action: VerificationAction,
  reason?: string,
): void {
  emitVerificationEvents(emu, account, applyVerification(account, action, reason), null);
}

/** The account a request may read or change: its own, or (from the platform) one of its connected accounts. */
function accessibleAccount(ctx: RequestContext, id: string): StripeObject {
  const account = id === ctx.owner && !ctx.isPlatform ? ctx.emu.store.entry('account', id)?.obj : undefined;
  const found = account ?? (ctx.isPlatform ? ctx.emu.connectedAccount(id) : undefined);
  if (!found) throw resourceMissing('account', id, 'account');
  return found;
}

function requirePlatform(ctx: RequestContext): void {
  if (!ctx.isPlatform) {
    throw new StripeApiError(403, {
      error: { type: 'invalid_request_error', message: 'Only the platform can manage connected accounts.' },
    });
  }
}

export function accountsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/accounts',
      handler: (ctx) => {
        requirePlatform(ctx);
        const type = optString(ctx.params, 'type');
        if (type !== undefined && !ACCOUNT_TYPES.includes(type)) {
          throw invalidRequest(`Invalid type: must be one of ${ACCOUNT_TYPES.join(', ')}`, { param: 'type' });
        }
        const account = buildAccount(ctx.params);
        ctx.emu.store.put('account', ctx.emu.platformId, account);
        return { body: account };
      },
    },
    {
      method: 'GET',
      path: '/v1/accounts',
      handler: (ctx) => {
        requirePlatform(ctx);
        const accounts = ctx.emu.store.list(
          'account',
          ctx.emu.platformId,
          (a) => !ctx.emu.deauthorized.has(a.id),
        );
        return { body: paginate(accounts, ctx.params, '/v1/accounts') };
      },
    },
    {
      method: 'GET',
      path: '/v1/account',
      handler: (ctx) => ({ body: ctx.isPlatform ? ctx.emu.platform : accessibleAccount(ctx, ctx.owner) }),
    },
    {
      method: 'GET',
      path: '/v1/accounts/:id',
      handler: (ctx) => ({
        body:
          ctx.pathParams.id === ctx.emu.platformId
            ? ctx.emu.platform
            : accessibleAccount(ctx, ctx.pathParams.id),
      }),
    },
    {
      method: 'POST',
      path: '/v1/accounts/:id',
      handler: (ctx) => {
        const account = accessibleAccount(ctx, ctx.pathParams.id);
        const schedule = scheduleUpdate(account, ctx.params.settings);
        const previous: Record<string, unknown> = {};
        for (const key of UPDATABLE) {
          const value = ctx.params[key];
          if (value === undefined) continue;
          previous[key] = structuredClone(account[key] ?? null);
          account[key] =
            isRecord(value) && isRecord(account[key])
              ? deepMerge(account[key] as Record<string, unknown>, value)
              : isRecord(value)
                ? deepMerge({}, value)
                : value === ''
                  ? null
                  : value;
        }
        if (schedule) setSchedule(account, schedule);
        if (ctx.params.metadata !== undefined) {
          previous.metadata = account.metadata;
          account.metadata = mergeMetadata(account.metadata, ctx.params.metadata);
        }
        if (isRecord(ctx.params.capabilities)) {
          const caps = account.capabilities as Record<string, string>;
          previous.capabilities = { ...caps };
          for (const [name, v] of Object.entries(ctx.params.capabilities)) {
            if (isRecord(v) && v.requested === 'true' && !caps[name])
              caps[name] = account.charges_enabled ? 'pending' : 'inactive';
            if (isRecord(v) && v.requested === 'false') delete caps[name];
          }
        }
        if (Object.keys(previous).length > 0)
          emitEvent(ctx, 'account.updated', account, account.id, previous);
        return { body: account };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/accounts/:id',
      handler: (ctx) => {
        requirePlatform(ctx);
        const account = accessibleAccount(ctx, ctx.pathParams.id);
        ctx.emu.store.remove('account', account.id);
        return { body: { id: account.id, object: 'account', deleted: true } };
      },
    },
    {
      method: 'POST',
      path: '/v1/accounts/:id/reject',
      handler: (ctx) => {
        requirePlatform(ctx);
        const account = accessibleAccount(ctx, ctx.pathParams.id);
        const reason = optString(ctx.params, 'reason');
        if (!reason || !['fraud', 'terms_of_service', 'other'].includes(reason)) {
          throw invalidRequest('Invalid reason: must be one of fraud, terms_of_service, other', {
            param: 'reason',
          });
        }
        const change = applyVerification(account, 'reject', reason);
        emitVerificationEvents(ctx.emu, account, change, {
          requestId: ctx.requestId,
          idempotencyKey: ctx.idempotencyKey,
          apiVersion: ctx.apiVersion,
        });
        return { body: account };
      },
    },
  ];
}

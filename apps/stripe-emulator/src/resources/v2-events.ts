import { EmulatorState, RequestContext, Route, STATE_SETUP } from '../context';
import { newId } from '../ids';
import { StripeObject } from '../store';
import { EventRequestInfo } from '../webhooks/delivery';
import { capabilityStatuses, V2AccountData, v2Requirements } from './v2-account-model';
import { invalidField, iso, optList, v2List, v2NotFound } from './v2-common';
import { isRecord } from '../params';

/**
 * v2 events (`v2.core.event`): stored per context (the connected account they come from, or the platform),
 * listed and retrieved at /v2/core/events, and pushed thin to the event destinations that enable their type.
 * https://docs.stripe.com/event-destinations
 */

export interface V2EventInput {
  type: string;
  /** The connected account the event comes from; null for the platform's own. */
  context: string | null;
  related_object?: Record<string, unknown>;
  data?: Record<string, unknown>;
  changes?: Record<string, unknown>;
  snapshot_event?: string;
  request?: EventRequestInfo | null;
  /** Deliver to this destination only (ping). */
  only?: StripeObject;
}

/** Destinations that get an event: enabled, listing its type, and listening where it comes from. */
export function destinationsFor(emu: EmulatorState, type: string, context: string | null): StripeObject[] {
  return emu.store.list('event_destination', emu.platformId, (d) => {
    const events = d.enabled_events as string[];
    const from = (d.events_from as string[] | undefined) ?? ['@self'];
    return (
      d.status === 'enabled' &&
      (events.includes(type) || events.includes('*')) &&
      from.includes(context ? '@accounts' : '@self')
    );
  });
}

function subscribed(emu: EmulatorState, type: string): boolean {
  return (
    emu.store.list('event_destination', emu.platformId, (d) => (d.enabled_events as string[]).includes(type))
      .length > 0
  );
}

export function emitV2Event(emu: EmulatorState, input: V2EventInput): StripeObject {
  const request = input.request;
  const event: StripeObject = {
    id: newId('evt_test', 24),
    object: 'v2.core.event',
    context: input.context,
    created: iso(),
    livemode: false,
    reason: request?.requestId
      ? {
          type: 'request',
          request: { id: request.requestId, idempotency_key: request.idempotencyKey ?? null },
        }
      : null,
    type: input.type,
    ...(input.related_object ? { related_object: input.related_object } : {}),
    ...(input.data ? { data: input.data } : {}),
    ...(input.changes ? { changes: input.changes } : {}),
    ...(input.snapshot_event ? { snapshot_event: input.snapshot_event } : {}),
  };
  const targets = input.only
    ? input.only.status === 'enabled'
      ? [input.only]
      : []
    : destinationsFor(emu, input.type, input.context);
  emu.webhooks.emitThin(event, targets);
  return event;
}

export function accountRelated(id: string): Record<string, unknown> {
  return { id, type: 'v2.core.account', url: `/v2/core/accounts/${id}` };
}

/** Emits a v2 account event (context = the account, related object = the account). */
export function emitAccountEvent(
  emu: EmulatorState,
  type: string,
  accountId: string,
  request: EventRequestInfo | null,
  data?: Record<string, unknown>,
): StripeObject {
  return emitV2Event(emu, {
    type,
    context: accountId,
    related_object: accountRelated(accountId),
    data,
    request,
  });
}

/** Where a v1 object is fetched (a thin `v1.` event's related object). */
function v1Related(obj: StripeObject): Record<string, unknown> {
  if (obj.object === 'balance') return { type: 'balance', url: '/v1/balance' };
  if (obj.object === 'capability')
    return {
      id: obj.id,
      type: 'capability',
      url: `/v1/accounts/${String(obj.account)}/capabilities/${obj.id}`,
    };
  if (obj.object === 'fee_refund')
    return {
      id: obj.id,
      type: 'fee_refund',
      url: `/v1/application_fees/${String(obj.fee)}/refunds/${obj.id}`,
    };
  return { id: obj.id, type: obj.object, url: `/v1/${obj.object}s/${obj.id}` };
}

/** The account as it was before a v1 account.updated (its previous_attributes put back). */
function before(account: StripeObject, previous: Record<string, unknown>): StripeObject {
  const old = { ...account, ...previous } as StripeObject;
  if (previous.capabilities) {
    const caps = { ...(account.capabilities as object), ...(previous.capabilities as object) } as Record<
      string,
      unknown
    >;
    for (const [k, v] of Object.entries(caps)) if (v === null) delete caps[k];
    old.capabilities = caps;
  }
  return old;
}

/**
 * After every v1 event: its thin `v1.` twin where a destination enables it, and, for an account.updated of a
 * v2 account, the v2 events it implies (account updated, requirements updated, capability status changes).
 */
export function onV1Event(
  emu: EmulatorState,
  event: StripeObject,
  owner: string,
  previous: Record<string, unknown> | undefined,
): void {
  const context = owner === emu.platformId ? null : owner;
  const object = (event.data as { object: StripeObject }).object;
  const request = event.request as { id: string | null; idempotency_key: string | null };
  const info = { requestId: request.id, idempotencyKey: request.idempotency_key };
  const thinType = `v1.${String(event.type)}`;
  if (subscribed(emu, thinType)) {
    emitV2Event(emu, {
      type: thinType,
      context,
      related_object: v1Related(object),
      snapshot_event: event.id,
      request: info,
    });
  }
  const data = event.type === 'account.updated' ? emu.v2Accounts.get(object.id) : undefined;
  const account = data ? emu.store.entry('account', object.id)?.obj : undefined;
  if (!data || !account) return;
  emitV2AccountChanges(emu, account, data, before(account, previous ?? {}), info);
}

/** v2.core.account.updated, then one event per changed capability status and for changed requirements. */
export function emitV2AccountChanges(
  emu: EmulatorState,
  account: StripeObject,
  data: V2AccountData,
  old: StripeObject,
  request: EventRequestInfo | null,
  oldData: V2AccountData = data,
): void {
  emitAccountEvent(emu, 'v2.core.account.updated', account.id, request);
  const was = capabilityStatuses(old, oldData);
  const now = capabilityStatuses(account, data);
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (was[key]?.status === now[key]?.status) continue;
    const [config, name] = key.split(':');
    emitAccountEvent(
      emu,
      `v2.core.account[configuration.${config}].capability_status_updated`,
      account.id,
      request,
      {
        updated_capability: name,
      },
    );
  }
  if (JSON.stringify(v2Requirements(old, oldData)) !== JSON.stringify(v2Requirements(account, data)))
    emitAccountEvent(emu, 'v2.core.account[requirements].updated', account.id, request);
}

STATE_SETUP.push((state) =>
  state.webhooks.listeners.push((event, owner, previous) => onV1Event(state, event, owner, previous)),
);

function owner(ctx: RequestContext): string {
  return ctx.owner;
}

export function v2EventsRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v2/core/events',
      handler: (ctx) => {
        const types = optList(ctx.params, 'types');
        const objectId = typeof ctx.params.object_id === 'string' ? ctx.params.object_id : undefined;
        const created = isRecord(ctx.params.created) ? ctx.params.created : {};
        // The SDK sends a Date as unix seconds; an RFC 3339 string works too.
        const bound = (k: string): string | undefined => {
          const v = created[k];
          if (typeof v !== 'string') return undefined;
          const d = /^\d+$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
          if (Number.isNaN(d.getTime())) throw invalidField(`created.${k}`, `created.${k} is not a time.`);
          return d.toISOString();
        };
        const [gt, gte, lt, lte] = ['gt', 'gte', 'lt', 'lte'].map(bound);
        const inRange = (t: string): boolean =>
          (!gt || t > gt) && (!gte || t >= gte) && (!lt || t < lt) && (!lte || t <= lte);
        const events = ctx.emu.store.list(
          'v2_event',
          owner(ctx),
          (e) =>
            (!types || types.includes(String(e.type))) &&
            (!objectId || (e.related_object as { id?: string } | undefined)?.id === objectId) &&
            inRange(String(e.created)),
        );
        return { body: v2List(ctx.params, events, '/v2/core/events') };
      },
    },
    {
      method: 'GET',
      path: '/v2/core/events/:id',
      handler: (ctx) => {
        const event = ctx.emu.store.find('v2_event', ctx.pathParams.id, owner(ctx));
        if (!event) throw v2NotFound('event', ctx.pathParams.id);
        return { body: event };
      },
    },
  ];
}

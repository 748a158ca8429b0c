import { RequestContext, Route } from '../context';
import { newId, randomToken } from '../ids';
import { StripeObject } from '../store';
import {
  includes,
  invalidField,
  iso,
  mergeV2Metadata,
  optEnum,
  optList,
  optStr,
  reqStr,
  v2Error,
  v2List,
  v2NotFound,
} from './v2-common';
import { emitV2Event } from './v2-events';

/**
 * Event destinations (https://docs.stripe.com/api/v2/core/event-destinations): webhook endpoints that get
 * thin notifications, signed like v1 deliveries with the destination's `whsec_` secret, which Stripe shows
 * only in the create response when `include` asks for it.
 */

const EVENTS_FROM = ['@self', '@accounts', '@organization_members', '@organization_members/@accounts'];
const PATH = '/v2/core/event_destinations';

function requirePlatform(ctx: RequestContext): void {
  if (!ctx.isPlatform)
    throw v2Error(403, 'Only the platform manages event destinations.', { type: 'permission_error' });
}

function find(ctx: RequestContext): StripeObject {
  requirePlatform(ctx);
  const d = ctx.emu.store.find('event_destination', ctx.pathParams.id, ctx.emu.platformId);
  if (!d) throw v2NotFound('event destination', ctx.pathParams.id);
  return d;
}

function enabledEvents(ctx: RequestContext, required: boolean): string[] | undefined {
  const events = optList(ctx.params, 'enabled_events');
  if (events === undefined && !required) return undefined;
  if (!events || events.length === 0 || events.some((e) => e === '')) {
    throw invalidField('enabled_events', 'enabled_events must be a non-empty list of event types.');
  }
  return events;
}

function webhookUrl(ctx: RequestContext, required: boolean): string | undefined {
  const url = required
    ? reqStr(ctx.params, 'webhook_endpoint.url')
    : optStr(ctx.params, 'webhook_endpoint.url');
  if (url !== undefined && !URL.canParse(url))
    throw invalidField('webhook_endpoint.url', 'webhook_endpoint.url is not a valid URL.');
  return url;
}

/** The stored destination as the API shows it: the URL only when included, never the secret. */
function render(d: StripeObject, include: Set<string>): StripeObject {
  const endpoint = d.webhook_endpoint as { url: string };
  return { ...d, webhook_endpoint: include.has('webhook_endpoint.url') ? { url: endpoint.url } : {} };
}

export function eventDestinationsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: PATH,
      handler: (ctx) => {
        requirePlatform(ctx);
        const include = includes(ctx.params, ['webhook_endpoint.signing_secret', 'webhook_endpoint.url']);
        const name = reqStr(ctx.params, 'name');
        const type = reqStr(ctx.params, 'type');
        if (type !== 'webhook_endpoint')
          throw invalidField(
            'type',
            'The emulator delivers to webhook endpoints only (type `webhook_endpoint`).',
          );
        const payload = optEnum(ctx.params, 'event_payload', ['thin', 'snapshot']);
        if (payload !== 'thin') {
          throw invalidField(
            'event_payload',
            'event_payload `thin` is required here; snapshot events go to /v1/webhook_endpoints.',
          );
        }
        const eventsFrom = optList(ctx.params, 'events_from');
        for (const f of eventsFrom ?? []) {
          if (!EVENTS_FROM.includes(f))
            throw invalidField('events_from', `events_from must be among ${EVENTS_FROM.join(', ')}.`);
        }
        const now = iso();
        const destination: StripeObject = {
          id: newId('ed_test', 24),
          object: 'v2.core.event_destination',
          created: now,
          description: optStr(ctx.params, 'description') ?? '',
          enabled_events: enabledEvents(ctx, true),
          event_payload: 'thin',
          events_from: eventsFrom ?? ['@self'],
          livemode: false,
          metadata: mergeV2Metadata({}, ctx.params.metadata),
          name,
          status: 'enabled',
          status_details: null,
          type,
          updated: now,
          webhook_endpoint: { url: webhookUrl(ctx, true) },
        };
        const secret = `whsec_${randomToken(32)}`;
        ctx.emu.store.put('event_destination', ctx.emu.platformId, destination);
        ctx.emu.webhooks.setSecret(destination.id, secret);
        const body = render(destination, include);
        if (include.has('webhook_endpoint.signing_secret'))
          body.webhook_endpoint = { ...(body.webhook_endpoint as object), signing_secret: secret };
        return { body };
      },
    },
    {
      method: 'GET',
      path: PATH,
      handler: (ctx) => {
        requirePlatform(ctx);
        const include = includes(ctx.params, ['webhook_endpoint.url']);
        const all = ctx.emu.store
          .list('event_destination', ctx.emu.platformId)
          .map((d) => render(d, include));
        return { body: v2List(ctx.params, all, PATH) };
      },
    },
    {
      method: 'GET',
      path: `${PATH}/:id`,
      handler: (ctx) => ({ body: render(find(ctx), includes(ctx.params, ['webhook_endpoint.url'])) }),
    },
    {
      method: 'POST',
      path: `${PATH}/:id`,
      handler: (ctx) => {
        const d = find(ctx);
        const include = includes(ctx.params, ['webhook_endpoint.url']);
        const events = enabledEvents(ctx, false);
        const url = webhookUrl(ctx, false);
        const name = optStr(ctx.params, 'name');
        const description = optStr(ctx.params, 'description');
        if (events) d.enabled_events = events;
        if (url) d.webhook_endpoint = { url };
        if (name) d.name = name;
        if (description !== undefined) d.description = description;
        if (ctx.params.metadata !== undefined) d.metadata = mergeV2Metadata(d.metadata, ctx.params.metadata);
        d.updated = iso();
        return { body: render(d, include) };
      },
    },
    {
      method: 'DELETE',
      path: `${PATH}/:id`,
      handler: (ctx) => {
        const d = find(ctx);
        ctx.emu.store.remove('event_destination', d.id);
        ctx.emu.webhooks.forgetEndpoint(d.id);
        return { body: { id: d.id, object: 'v2.core.event_destination', deleted: true } };
      },
    },
    ...(['enable', 'disable'] as const).map((action): Route => ({
      method: 'POST',
      path: `${PATH}/:id/${action}`,
      handler: (ctx) => {
        const d = find(ctx);
        d.status = action === 'enable' ? 'enabled' : 'disabled';
        d.status_details = action === 'enable' ? null : { disabled: { reason: 'user' } };
        d.updated = iso();
        return { body: render(d, new Set()) };
      },
    })),
    {
      method: 'POST',
      path: `${PATH}/:id/ping`,
      handler: (ctx) => {
        const d = find(ctx);
        const event = emitV2Event(ctx.emu, {
          type: 'v2.core.event_destination.ping',
          context: null,
          related_object: { id: d.id, type: 'v2.core.event_destination', url: `${PATH}/${d.id}` },
          request: { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey },
          only: d,
        });
        return { body: event };
      },
    },
  ];
}

import { RequestContext, Route } from '../context';
import { invalidRequest, resourceMissing } from '../errors';
import { newId, nowSeconds, randomToken } from '../ids';
import { mergeMetadata, optArray, optBool, optString, reqString } from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';

function enabledEvents(ctx: RequestContext): string[] | undefined {
  const events = optArray(ctx.params, 'enabled_events');
  if (events === undefined) return undefined;
  if (events.length === 0 || events.some((e) => typeof e !== 'string' || e === '')) {
    throw invalidRequest('enabled_events must be a non-empty list of event types', {
      param: 'enabled_events',
    });
  }
  return events as string[];
}

function validUrl(url: string): string {
  if (!URL.canParse(url))
    throw invalidRequest('Invalid URL: An explicit scheme (such as https) must be provided.', {
      param: 'url',
    });
  return url;
}

function find(ctx: RequestContext): StripeObject {
  const id = ctx.pathParams.id;
  const endpoint = ctx.emu.store.find('webhook_endpoint', id, ctx.owner);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id, 'webhook_endpoint');
  return endpoint;
}

export function webhookEndpointsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/webhook_endpoints',
      handler: (ctx) => {
        const url = validUrl(reqString(ctx.params, 'url'));
        const events = enabledEvents(ctx);
        if (!events)
          throw invalidRequest('Missing required param: enabled_events.', {
            param: 'enabled_events',
            code: 'parameter_missing',
          });
        const secret = `whsec_${randomToken(32)}`;
        const endpoint: StripeObject = {
          id: newId('we'),
          object: 'webhook_endpoint',
          api_version: optString(ctx.params, 'api_version') ?? null,
          application: optBool(ctx.params, 'connect') ? ctx.emu.clientId : null,
          connect: optBool(ctx.params, 'connect') ?? false,
          created: nowSeconds(),
          description: optString(ctx.params, 'description') ?? null,
          enabled_events: events,
          livemode: false,
          metadata: mergeMetadata({}, ctx.params.metadata),
          status: 'enabled',
          url,
        };
        ctx.emu.store.put('webhook_endpoint', ctx.owner, endpoint);
        ctx.emu.webhooks.setSecret(endpoint.id, secret);
        return { body: { ...endpoint, secret } };
      },
    },
    {
      method: 'GET',
      path: '/v1/webhook_endpoints',
      handler: (ctx) => ({
        body: paginate(
          ctx.emu.store.list('webhook_endpoint', ctx.owner),
          ctx.params,
          '/v1/webhook_endpoints',
        ),
      }),
    },
    { method: 'GET', path: '/v1/webhook_endpoints/:id', handler: (ctx) => ({ body: find(ctx) }) },
    {
      method: 'POST',
      path: '/v1/webhook_endpoints/:id',
      handler: (ctx) => {
        const endpoint = find(ctx);
        const url = optString(ctx.params, 'url');
        if (url !== undefined) endpoint.url = validUrl(url);
        const events = enabledEvents(ctx);
        if (events) endpoint.enabled_events = events;
        const description = optString(ctx.params, 'description');
        if (description !== undefined) endpoint.description = description || null;
        const disabled = optBool(ctx.params, 'disabled');
        if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
        if (ctx.params.metadata !== undefined)
          endpoint.metadata = mergeMetadata(endpoint.metadata, ctx.params.metadata);
        return { body: endpoint };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/webhook_endpoints/:id',
      handler: (ctx) => {
        const endpoint = find(ctx);
        ctx.emu.store.remove('webhook_endpoint', endpoint.id);
        ctx.emu.webhooks.forgetEndpoint(endpoint.id);
        return { body: { id: endpoint.id, object: 'webhook_endpoint', deleted: true } };
      },
    },
  ];
}

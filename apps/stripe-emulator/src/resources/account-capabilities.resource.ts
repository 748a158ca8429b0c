import { Route } from '../context';
import { resourceMissing } from '../errors';
import { StripeObject } from '../store';
import { capabilityObject } from './account-objects';

/**
 * `GET /v1/accounts/:id/capabilities[/:capability]` (https://docs.stripe.com/api/capabilities), where a thin
 * `v1.capability.updated` points its related object.
 */
function account(ctx: Parameters<Route['handler']>[0]): StripeObject {
  const id = ctx.pathParams.id;
  const found = ctx.isPlatform ? ctx.emu.connectedAccount(id) : ctx.emu.store.entry('account', id)?.obj;
  if (!found || (!ctx.isPlatform && id !== ctx.owner)) throw resourceMissing('account', id, 'account');
  return found;
}

export function accountCapabilitiesRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/accounts/:id/capabilities',
      handler: (ctx) => {
        const a = account(ctx);
        const data = Object.keys(a.capabilities as object).map((name) => capabilityObject(a, name));
        return { body: { object: 'list', data, has_more: false, url: `/v1/accounts/${a.id}/capabilities` } };
      },
    },
    {
      method: 'GET',
      path: '/v1/accounts/:id/capabilities/:capability',
      handler: (ctx) => {
        const a = account(ctx);
        const name = ctx.pathParams.capability;
        if (!(name in (a.capabilities as object))) throw resourceMissing('capability', name, 'capability');
        return { body: capabilityObject(a, name) };
      },
    },
  ];
}

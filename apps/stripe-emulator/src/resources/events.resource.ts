import { Route } from '../context';
import { createdFilter, optArray, optBool, optString } from '../params';
import { paginate } from '../pagination';
import { findOwned } from './crud-helpers';

/** `type` accepts one `*` wildcard, e.g. `charge.*`. https://docs.stripe.com/api/events/list */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (t) => t === pattern;
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return (t) => re.test(t);
}

export function eventsRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/events',
      handler: (ctx) => {
        const created = createdFilter(ctx.params);
        const type = optString(ctx.params, 'type');
        const types = optArray(ctx.params, 'types') as string[] | undefined;
        const delivered = optBool(ctx.params, 'delivery_success');
        const byType = type ? typeMatcher(type) : types ? (t: string) => types.includes(t) : () => true;
        const events = ctx.emu.store.list(
          'event',
          ctx.owner,
          (e) =>
            created(e.created as number) &&
            byType(e.type as string) &&
            (delivered === undefined || ctx.emu.webhooks.deliverySucceeded(e.id) === delivered),
        );
        return { body: paginate(events, ctx.params, '/v1/events') };
      },
    },
    {
      method: 'GET',
      path: '/v1/events/:id',
      handler: (ctx) => ({ body: findOwned(ctx, 'event', ctx.pathParams.id, 'id') }),
    },
  ];
}

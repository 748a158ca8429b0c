import { RequestContext, Route } from '../context';
import { invalidRequest, resourceMissing } from '../errors';
import { createdFilter, mergeMetadata, optString } from '../params';
import { paginate } from '../pagination';
import { CollectionName, StripeObject } from '../store';

/** Fetches an object of the request's account, or Stripe's 404 `resource_missing`. */
export function findOwned(
  ctx: RequestContext,
  collection: CollectionName,
  id: string,
  param?: string,
): StripeObject {
  const obj = ctx.emu.store.find(collection, id, ctx.owner);
  if (!obj) throw resourceMissing(collection, id, param);
  return obj;
}

export function retrieveRoute(collection: CollectionName, path: string, param: string): Route {
  return {
    method: 'GET',
    path,
    handler: (ctx) => ({ body: findOwned(ctx, collection, ctx.pathParams.id, param) }),
  };
}

/** A list endpoint with `created` range filters and equality filters on the named string fields. */
export function listRoute(collection: CollectionName, path: string, fields: string[] = []): Route {
  return {
    method: 'GET',
    path,
    handler: (ctx) => {
      const created = createdFilter(ctx.params);
      const equals = fields
        .map((f) => [f, optString(ctx.params, f)] as const)
        .filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
      const items = ctx.emu.store.list(
        collection,
        ctx.owner,
        (o) => created(o.created as number) && equals.every(([f, v]) => o[f] === v),
      );
      return { body: paginate(items, ctx.params, path) };
    },
  };
}

export function listOf(url: string, data: StripeObject[] = []): Record<string, unknown> {
  return { object: 'list', data, has_more: false, total_count: data.length, url };
}

/** Adds an item to an embedded list (newest first, the first 10 kept, as Stripe embeds them). */
export function pushToList(list: unknown, item: StripeObject): void {
  const l = list as { data: StripeObject[]; total_count?: number };
  l.data.unshift(item);
  if (l.data.length > 10) l.data.length = 10;
  l.total_count = (l.total_count ?? 0) + 1;
}

/**
 * List, retrieve and metadata update of objects that live under a parent, e.g. `/v1/transfers/:id/reversals`
 * and `/v1/transfers/:id/reversals/:child` (the child's `link` field names its parent).
 */
export function nestedRoutes(o: {
  parent: CollectionName;
  child: CollectionName;
  link: string;
  path: string;
  kind: string;
}): Route[] {
  const findChild = (ctx: RequestContext): StripeObject => {
    const child = findOwned(ctx, o.child, ctx.pathParams.child, 'id');
    if (child[o.link] !== ctx.pathParams.id) {
      throw invalidRequest(`No such ${o.kind}: '${ctx.pathParams.child}'`, {
        code: 'resource_missing',
        status: 404,
      });
    }
    return child;
  };
  return [
    {
      method: 'GET',
      path: o.path,
      handler: (ctx) => {
        const parent = findOwned(ctx, o.parent, ctx.pathParams.id, 'id');
        const items = ctx.emu.store.list(o.child, ctx.owner, (c) => c[o.link] === parent.id);
        return { body: paginate(items, ctx.params, o.path.replace(':id', parent.id)) };
      },
    },
    { method: 'GET', path: `${o.path}/:child`, handler: (ctx) => ({ body: findChild(ctx) }) },
    {
      method: 'POST',
      path: `${o.path}/:child`,
      handler: (ctx) => {
        const child = findChild(ctx);
        if (ctx.params.metadata !== undefined)
          child.metadata = mergeMetadata(child.metadata, ctx.params.metadata);
        return { body: child };
      },
    },
  ];
}

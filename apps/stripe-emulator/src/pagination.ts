import { invalidRequest } from './errors';
import { optInt, optString, Params } from './params';

export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/**
 * Stripe's cursor pagination over a newest-first array: `limit` 1..100 (default 10), `starting_after`
 * (older than the cursor) or `ending_before` (newer than the cursor). https://docs.stripe.com/api/pagination
 */
export function paginate<T extends { id: string }>(items: T[], params: Params, url: string): ListObject<T> {
  const limit = optInt(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest('This value must be greater than or equal to 1 and less than or equal to 100.', {
      param: 'limit',
      code: 'parameter_invalid_integer',
    });
  }
  const startingAfter = optString(params, 'starting_after');
  const endingBefore = optString(params, 'ending_before');
  const indexOf = (id: string, param: string): number => {
    const i = items.findIndex((item) => item.id === id);
    if (i < 0)
      throw invalidRequest(`No such object: '${id}'`, { param, code: 'resource_missing', status: 404 });
    return i;
  };
  if (endingBefore) {
    const newer = items.slice(0, indexOf(endingBefore, 'ending_before'));
    const data = newer.slice(Math.max(0, newer.length - limit));
    return { object: 'list', data, has_more: newer.length > limit, url };
  }
  const start = startingAfter ? indexOf(startingAfter, 'starting_after') + 1 : 0;
  const data = items.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < items.length, url };
}

export function emptyList<T>(url: string): ListObject<T> {
  return { object: 'list', data: [], has_more: false, url };
}

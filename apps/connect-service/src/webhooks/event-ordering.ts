/** The newest Stripe event applied to an object (`last_event_created` / `last_event_id` on the entity). */
export interface AppliedEventMark {
  created: number | null;
  id: string | null;
}

export interface EventMark {
  created: number;
  id: string;
}

/**
 * Whether `event` must not be applied over the state last written by `last`. Stripe delivers in no guaranteed
 * order (https://docs.stripe.com/webhooks#event-ordering), so an older `created` is stale. Event ids are
 * random, so they cannot order two events of the same second: those count as fresh, which is safe because
 * handlers re-fetch the object's current truth; only a repeat of the very event applied last is stale.
 */
export function isStaleEvent(last: AppliedEventMark, event: EventMark): boolean {
  if (last.created === null) return false;
  if (event.created < last.created) return true;
  if (event.created > last.created) return false;
  return last.id !== null && last.id === event.id;
}

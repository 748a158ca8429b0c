import { DriftCategory, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { Finding, localSide } from './drift.types';

const OPEN = [PaymentRouteStatus.Pending, PaymentRouteStatus.RequiresAction, PaymentRouteStatus.Processing];

/** Our route has no Stripe object (or Stripe answers 404 for it). */
export function missingOnStripe(route: PaymentRouteEntity, objectId: string | null): Finding {
  return {
    category: DriftCategory.MissingStripe,
    route,
    objectId,
    local: localSide(route),
    stripe: {},
    newest: route.updated_at,
  };
}

/** The Stripe object a route of the window points at, to re-read when no list showed it. */
export function stripeIdOf(route: PaymentRouteEntity): string | null {
  return route.type === PaymentRouteType.Payment ? route.stripe_payment_intent_id : route.stripe_object_id;
}

/**
 * A route no Stripe list showed, before anything is re-read: `[]` when that is no difference, a finding when it
 * surely is one, `undefined` when its object must be read from Stripe to know.
 */
export function unseenRoute(route: PaymentRouteEntity): Finding[] | undefined {
  if (route.type === PaymentRouteType.Subscription)
    // Stripe's subscription list leaves canceled ones out unless asked: unseen and canceled is no difference.
    return route.status === PaymentRouteStatus.Canceled
      ? []
      : [missingOnStripe(route, route.stripe_object_id)];
  // Declined or refused before Stripe made anything: nothing to find there.
  if (!stripeIdOf(route)) return OPEN.includes(route.status) ? [missingOnStripe(route, null)] : [];
  return undefined;
}

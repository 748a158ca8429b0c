import { DriftCategory, PaymentRouteEntity, PaymentRouteType } from '@app/database';
import type { StripePaymentIntent } from '@app/stripe-gateway';
import { missedIntentEvent, routeStatusesForIntent } from '../drift-rules';
import { Comparison, Finding, Obj, fromUnix, later, linked, localSide, meta, noDrift } from './drift.types';

/** Our routes for a page of PaymentIntents: by the route id in their metadata and by PaymentIntent id. */
export interface IntentRoutes {
  byId: Map<string, PaymentRouteEntity>;
  byIntent: Map<string, PaymentRouteEntity>;
}

/** PaymentIntents against payment routes: missing either side, a second PaymentIntent, amount, currency, status. */
export function compareIntents(pis: StripePaymentIntent[], routes: IntentRoutes): Comparison {
  const out = noDrift();
  for (const pi of pis) {
    const route = routes.byIntent.get(pi.id) ?? routes.byId.get(meta(pi).payment_route_id);
    const stripe = {
      id: pi.id,
      status: pi.status,
      amount: pi.amount,
      currency: pi.currency,
      application_fee_amount: pi.application_fee_amount,
      metadata: meta(pi),
    };
    const created = fromUnix(pi.created);
    if (!route) {
      // Invoices make their own PaymentIntents: the subscription phase covers them.
      if ((pi as unknown as Obj).invoice) continue;
      out.findings.push({
        category: DriftCategory.MissingLocal,
        route: null,
        objectId: pi.id,
        local: {},
        stripe,
        newest: created,
      });
      continue;
    }
    if (route.type !== PaymentRouteType.Payment) continue;
    if (route.stripe_payment_intent_id && route.stripe_payment_intent_id !== pi.id) {
      out.findings.push({
        category: DriftCategory.Duplicate,
        route,
        objectId: pi.id,
        local: localSide(route),
        stripe,
        newest: later(route.created_at, created),
      });
      continue;
    }
    out.matches.push(...linked(route, [pi.id]));
    out.findings.push(...intentDrift(route, pi, stripe));
  }
  return out;
}

function intentDrift(route: PaymentRouteEntity, pi: StripePaymentIntent, stripe: Obj): Finding[] {
  const out: Finding[] = [];
  const base = {
    route,
    objectId: pi.id,
    local: localSide(route),
    stripe,
    newest: later(route.updated_at, fromUnix(pi.created)),
  };
  if (pi.amount !== route.amount) out.push({ ...base, category: DriftCategory.AmountMismatch });
  if (pi.currency !== route.currency.trim()) out.push({ ...base, category: DriftCategory.CurrencyMismatch });
  if (!routeStatusesForIntent(pi.status).includes(route.status)) {
    const missed = missedIntentEvent(route.status, pi);
    out.push({
      ...base,
      // The route waited while Stripe moved on: its newest side is the route's own creation.
      newest: later(route.created_at, fromUnix(pi.created)),
      category: DriftCategory.StatusMismatch,
      ...(missed
        ? {
            replay: { handler: 'payment_intent' as const, type: missed, object: pi },
            note: `healed: ${missed} replayed`,
          }
        : {}),
    });
  }
  return out;
}

import { DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripeInvoice, StripeSubscription } from '@app/stripe-gateway';
import { routeStatusForSubscription } from '../drift-rules';
import { Comparison, Obj, fromUnix, idOf, later, linked, localSide, meta, noDrift } from './drift.types';

/** Subscription routes by subscription id (or route id while it has none) and by route id. */
export interface SubscriptionRoutes {
  byObject: Map<string, PaymentRouteEntity>;
  byId: Map<string, PaymentRouteEntity>;
}

/** Subscriptions against subscription routes: missing ours, amount (items × quantity), currency, status. */
export function compareSubscriptions(subs: StripeSubscription[], routes: SubscriptionRoutes): Comparison {
  const out = noDrift();
  for (const sub of subs) {
    const m = meta(sub);
    if (!(m.payment_route_id || m.tenant_id || sub.application_fee_percent !== null)) continue;
    const route = routes.byObject.get(sub.id) ?? routes.byId.get(m.payment_route_id);
    const amount = sub.items.data.reduce((s, i) => s + (i.price.unit_amount ?? 0) * (i.quantity ?? 1), 0);
    const stripe = { id: sub.id, status: sub.status, amount, currency: sub.currency };
    const created = fromUnix(sub.created);
    if (!route) {
      out.findings.push({
        category: DriftCategory.MissingLocal,
        route: null,
        objectId: sub.id,
        local: {},
        stripe,
        newest: created,
      });
      continue;
    }
    out.matches.push(...linked(route, [sub.id]));
    const base = {
      route,
      objectId: sub.id,
      local: localSide(route),
      stripe,
      newest: later(route.updated_at, created),
    };
    if (amount !== route.amount) out.findings.push({ ...base, category: DriftCategory.AmountMismatch });
    if (sub.currency !== route.currency.trim())
      out.findings.push({ ...base, category: DriftCategory.CurrencyMismatch });
    if (routeStatusForSubscription(sub.status) !== route.status)
      out.findings.push({ ...base, category: DriftCategory.StatusMismatch });
  }
  return out;
}

/** The subscription an invoice bills (the field moved under `parent` in newer API versions). */
export function subscriptionOf(invoice: StripeInvoice): string | null {
  return (
    idOf((invoice as unknown as Obj).subscription) ?? idOf(invoice.parent?.subscription_details?.subscription)
  );
}

/** A subscription's invoices carry its charges: link them (and their PaymentIntents) to the subscription's route. */
export function linkInvoices(
  invoices: StripeInvoice[],
  bySubscription: Map<string, PaymentRouteEntity>,
): Comparison {
  const out = noDrift();
  for (const invoice of invoices) {
    const route = bySubscription.get(subscriptionOf(invoice) ?? '');
    if (!route) continue;
    const o = invoice as unknown as Obj;
    out.matches.push(...linked(route, [invoice.id, idOf(o.charge), idOf(o.payment_intent)]));
  }
  return out;
}

import { DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripeRefund } from '@app/stripe-gateway';
import { routeStatusForRefund } from '../../payments/refund-status';
import { refundHealable } from '../drift-rules';
import { Comparison, fromUnix, idOf, later, linked, localSide, meta, noDrift } from './drift.types';

/** Our refund routes (by route id and by Refund id) and the payment routes the refunds' PaymentIntents belong to. */
export interface RefundRoutes {
  byId: Map<string, PaymentRouteEntity>;
  byObject: Map<string, PaymentRouteEntity>;
  parents: Map<string, PaymentRouteEntity>;
}

/**
 * Refunds against refund routes. A refund of one of our payments with no route of its own is recorded from
 * Stripe (when it was not made through us) and counted toward the payment's refunded total either way.
 */
export function compareRefunds(refunds: StripeRefund[], routes: RefundRoutes): Comparison {
  const out = noDrift();
  for (const refund of refunds) {
    const route = routes.byObject.get(refund.id) ?? routes.byId.get(meta(refund).payment_route_id);
    const parent = routes.parents.get(idOf(refund.payment_intent) ?? '');
    const stripe = {
      id: refund.id,
      status: refund.status,
      amount: refund.amount,
      currency: refund.currency,
      payment_intent: idOf(refund.payment_intent),
      metadata: meta(refund),
    };
    const created = fromUnix(refund.created);
    if (!route) {
      if (!parent) continue;
      const ours = Boolean(meta(refund).payment_route_id);
      if (refund.status === 'succeeded' || refund.status === 'pending') {
        out.matches.push({
          stripe_object_id: refund.id,
          payment_route_id: parent.id,
          kind: 'unrecorded_refund',
          amount: refund.amount,
        });
      }
      const recordable = !ours && refund.status !== 'failed' && refund.status !== 'canceled';
      out.findings.push({
        category: DriftCategory.MissingLocal,
        route: parent,
        objectId: refund.id,
        local: localSide(parent),
        stripe,
        newest: created,
        ...(recordable
          ? {
              replay: { handler: 'refund' as const, type: 'refund.created', object: refund },
              note: 'healed: refund recorded from Stripe',
            }
          : {}),
      });
      continue;
    }
    out.matches.push(...linked(route, [refund.id]));
    const base = {
      route,
      objectId: refund.id,
      local: localSide(route),
      stripe,
      newest: later(route.updated_at, created),
    };
    if (refund.amount !== route.amount)
      out.findings.push({ ...base, category: DriftCategory.AmountMismatch });
    if (refund.currency !== route.currency.trim())
      out.findings.push({ ...base, category: DriftCategory.CurrencyMismatch });
    if (routeStatusForRefund(refund.status) !== route.status) {
      const healable = refundHealable(route.status, refund.status);
      out.findings.push({
        ...base,
        newest: later(route.created_at, created),
        category: DriftCategory.StatusMismatch,
        ...(healable
          ? {
              replay: { handler: 'refund' as const, type: 'refund.updated', object: refund },
              note: 'healed: refund.updated replayed',
            }
          : {}),
      });
    }
  }
  return out;
}

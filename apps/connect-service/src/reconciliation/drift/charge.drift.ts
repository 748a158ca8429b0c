import { ChargeType, DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripeCharge } from '@app/stripe-gateway';
import { Comparison, Owner, fromUnix, idOf, isOurs, later, linked, localSide, noDrift } from './drift.types';

/** The succeeded charges of this tenant that belong to a PaymentIntent: the only ones compared. */
export function chargesToCompare(charges: StripeCharge[], owner: Owner, onAccount: boolean): StripeCharge[] {
  return charges.filter((c) => c.payment_intent && c.status === 'succeeded' && isOurs(owner, c, onAccount));
}

/** Payment routes by PaymentIntent id, and our refunded total per route id. */
export interface ChargeRoutes {
  byIntent: Map<string, PaymentRouteEntity>;
  refunded: Map<string, number>;
}

/** Charges against payment routes: the refunded total, the application fee and the destination transfer exist. */
export function compareCharges(charges: StripeCharge[], routes: ChargeRoutes): Comparison {
  const out = noDrift();
  for (const charge of charges) {
    const route = routes.byIntent.get(idOf(charge.payment_intent) ?? '');
    if (!route) continue;
    out.matches.push(...linked(route, [charge.id, idOf(charge.transfer), idOf(charge.application_fee)]));
    const stripe = {
      id: charge.id,
      amount: charge.amount,
      amount_refunded: charge.amount_refunded,
      application_fee: idOf(charge.application_fee),
      transfer: idOf(charge.transfer),
      currency: charge.currency,
    };
    const base = {
      route,
      objectId: charge.id,
      stripe,
      newest: later(route.updated_at, fromUnix(charge.created)),
    };
    const ours = routes.refunded.get(route.id) ?? 0;
    if (charge.amount_refunded !== ours) {
      out.findings.push({
        ...base,
        category: DriftCategory.RefundMismatch,
        local: { ...localSide(route), amount_refunded: ours },
      });
    }
    const feeCharged =
      route.charge_type === ChargeType.Direct || route.charge_type === ChargeType.Destination;
    if (feeCharged && route.fee > 0 && !charge.application_fee)
      out.findings.push({ ...base, category: DriftCategory.FeeMismatch, local: localSide(route) });
    if (route.charge_type === ChargeType.Destination && !charge.transfer)
      out.findings.push({ ...base, category: DriftCategory.TransferMismatch, local: localSide(route) });
  }
  return out;
}

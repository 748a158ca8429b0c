import { DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripeApplicationFee } from '@app/stripe-gateway';
import { Comparison, Owner, fromUnix, idOf, later, linked, localSide, noDrift } from './drift.types';

/** The platform's application fees collected from this tenant's account. */
export function feesOf(fees: StripeApplicationFee[], owner: Owner): StripeApplicationFee[] {
  return fees.filter((f) => idOf(f.account) === owner.stripeAccountId);
}

/** Application fees against the fee of the route their charge was linked to (`byCharge`: charge id → route). */
export function compareFees(
  fees: StripeApplicationFee[],
  byCharge: Map<string, PaymentRouteEntity>,
): Comparison {
  const out = noDrift();
  for (const fee of fees) {
    const route = byCharge.get(idOf(fee.charge) ?? '');
    if (!route) continue;
    // Fee refunds (`fr_`) reach the account's balance too: link them for the payout phase.
    out.matches.push(...linked(route, [fee.id, ...(fee.refunds?.data ?? []).map((r) => r.id)]));
    if (fee.amount !== route.fee) {
      out.findings.push({
        category: DriftCategory.FeeMismatch,
        route,
        objectId: fee.id,
        local: localSide(route),
        stripe: {
          id: fee.id,
          amount: fee.amount,
          amount_refunded: fee.amount_refunded,
          charge: idOf(fee.charge),
        },
        newest: later(route.updated_at, fromUnix(fee.created)),
      });
    }
  }
  return out;
}

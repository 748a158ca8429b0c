import { ChargeType, DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripeTransfer } from '@app/stripe-gateway';
import { destinationTransferMatches } from '../drift-rules';
import { Comparison, Owner, fromUnix, idOf, later, linked, localSide, meta, noDrift } from './drift.types';

/** Split payments' own transfer routes (by Transfer id) and the routes of the charges transfers came from. */
export interface TransferRoutes {
  own: Map<string, PaymentRouteEntity>;
  bySource: Map<string, PaymentRouteEntity>;
}

/** Transfers to the tenant's account: destination charges' automatic transfers and split payments' own. */
export function compareTransfers(
  transfers: StripeTransfer[],
  routes: TransferRoutes,
  owner: Owner,
): Comparison {
  const out = noDrift();
  for (const t of transfers) {
    const stripe = {
      id: t.id,
      amount: t.amount,
      amount_reversed: t.amount_reversed,
      destination: idOf(t.destination),
      source_transaction: idOf(t.source_transaction),
      transfer_group: t.transfer_group,
    };
    const created = fromUnix(t.created);
    const split = routes.own.get(t.id);
    const route = split ?? routes.bySource.get(idOf(t.source_transaction) ?? '');
    if (!route) {
      if (meta(t).payment_route_id || meta(t).tenant_id === owner.tenantId) {
        out.findings.push({
          category: DriftCategory.MissingLocal,
          route: null,
          objectId: t.id,
          local: {},
          stripe,
          newest: created,
        });
      }
      continue;
    }
    // The account-side objects it made: the `py_` payment, and each reversal's `pyr_` refund of that payment.
    const reversals = (t.reversals?.data ?? []).map((r) => idOf(r.destination_payment_refund));
    out.matches.push(...linked(route, [t.id, idOf(t.destination_payment), ...reversals]));
    const right = split
      ? t.amount === route.amount && idOf(t.destination) === route.stripe_account_id
      : route.charge_type !== ChargeType.Destination ||
        (destinationTransferMatches(t.amount, route.amount, route.fee) &&
          idOf(t.destination) === route.stripe_account_id);
    if (!right) {
      out.findings.push({
        category: DriftCategory.TransferMismatch,
        route,
        objectId: t.id,
        local: localSide(route),
        stripe,
        newest: later(route.updated_at, created),
      });
    }
  }
  return out;
}

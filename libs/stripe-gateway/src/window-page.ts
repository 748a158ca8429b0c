import type { StripeGateway } from './stripe.gateway';
import type {
  StripeApplicationFee,
  StripeCharge,
  StripeInvoice,
  StripeList,
  StripePaymentIntent,
  StripePayout,
  StripeReadOptions,
  StripeRefund,
  StripeSubscription,
  StripeTransfer,
} from './stripe-gateway.types';

/** The Stripe lists that can be read one page at a time over a `created` window. */
export interface WindowListItems {
  payment_intents: StripePaymentIntent;
  refunds: StripeRefund;
  charges: StripeCharge;
  application_fees: StripeApplicationFee;
  transfers: StripeTransfer;
  subscriptions: StripeSubscription;
  invoices: StripeInvoice;
  payouts: StripePayout;
}
export type WindowList = keyof WindowListItems;

/** One page of a list whose objects were created in [from, to], widened by `slackSeconds` on both edges. */
export interface WindowPageQuery {
  from: Date;
  to: Date;
  slackSeconds: number;
  limit: number;
  /** The last id of the previous page (`starting_after`), or null for the first page. */
  after: string | null;
  /** Transfers to one connected account. */
  destination?: string;
  /** Payouts in one status (e.g. `paid`). */
  status?: string;
}

const unix = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * Reads one page of `list` through the gateway's own list methods (same resilience and metrics as any call).
 * https://docs.stripe.com/api/pagination
 */
export function listWindowPage<L extends WindowList>(
  gateway: StripeGateway,
  list: L,
  q: WindowPageQuery,
  options?: StripeReadOptions,
): Promise<StripeList<WindowListItems[L]>> {
  const params = {
    created: { gte: unix(q.from) - q.slackSeconds, lte: unix(q.to) + q.slackSeconds },
    limit: q.limit,
    ...(q.after ? { starting_after: q.after } : {}),
  };
  const read = {
    payment_intents: () => gateway.listPaymentIntents(params, options),
    refunds: () => gateway.listRefunds(params, options),
    charges: () => gateway.listCharges(params, options),
    application_fees: () => gateway.listApplicationFees(params, options),
    transfers: () =>
      gateway.listTransfers({ ...params, ...(q.destination ? { destination: q.destination } : {}) }, options),
    subscriptions: () => gateway.listSubscriptions(params, options),
    invoices: () => gateway.listInvoices(params, options),
    payouts: () =>
      gateway.listPayouts({ ...params, ...(q.status ? { status: q.status } : {}) } as never, options),
  }[list];
  return read() as Promise<StripeList<WindowListItems[L]>>;
}

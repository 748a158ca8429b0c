import { DriftCategory, PaymentRouteEntity } from '@app/database';
import type { StripePaymentIntent, StripePayout, StripeRefund } from '@app/stripe-gateway';

export type Obj = Record<string, unknown>;

/** The webhook a heal replays through its own handler (so a healed route emits the same ConnectEvents). */
export type Replay =
  | { handler: 'payment_intent'; type: string; object: StripePaymentIntent }
  | { handler: 'refund'; type: string; object: StripeRefund }
  | { handler: 'payout'; type: string; object: StripePayout };

/** One difference between Stripe's object and our row. */
export interface Finding {
  category: DriftCategory;
  route: PaymentRouteEntity | null;
  objectId: string | null;
  local: Obj;
  stripe: Obj;
  /** The later of the two sides' timestamps: what the grace window is measured from. */
  newest: Date;
  /** The missed webhook whose replay heals the difference (never for a dry run or inside the grace window). */
  replay?: Replay;
  note?: string;
}

/** A Stripe object tied to one of our routes by this job (later phases and the local sweep read them). */
export interface Match {
  stripe_object_id: string;
  payment_route_id: string | null;
  kind: 'linked' | 'unrecorded_refund';
  amount: number | null;
}

export interface Comparison {
  findings: Finding[];
  matches: Match[];
}

/** Whose objects a job compares: a tenant and its connected account. */
export interface Owner {
  tenantId: string;
  stripeAccountId: string;
}

/** The tenant, its account and the job whose matches a comparison reads. */
export interface JobOwner extends Owner {
  jobId: string;
}

export const noDrift = (): Comparison => ({ findings: [], matches: [] });
export const fromUnix = (s: number): Date => new Date(s * 1000);
export const later = (a: Date, b: Date): Date => (a > b ? a : b);
export const idOf = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object'
      ? (((v as Obj).id as string | undefined) ?? null)
      : null;
export const meta = (o: { metadata?: unknown }): Record<string, string> =>
  (o.metadata as Record<string, string> | null | undefined) ?? {};

/** A `linked` match of every present id to the route. */
export function linked(route: PaymentRouteEntity, ids: (string | null | undefined)[]): Match[] {
  return ids
    .filter((id): id is string => Boolean(id))
    .map((id) => ({ stripe_object_id: id, payment_route_id: route.id, kind: 'linked', amount: null }));
}

/** Our side of a finding, as stored on the item. */
export function localSide(route: PaymentRouteEntity): Obj {
  return {
    type: route.type,
    status: route.status,
    amount: route.amount,
    fee: route.fee,
    currency: route.currency.trim(),
    charge_type: route.charge_type,
    stripe_payment_intent_id: route.stripe_payment_intent_id,
    stripe_object_id: route.stripe_object_id,
    stripe_status: route.stripe_status,
  };
}

/**
 * Platform lists hold every tenant's objects: keep this tenant's. On the connected account, objects the tenant
 * made outside the platform (no route id, tenant or application fee of ours) are its own business.
 */
export function isOurs(
  owner: Owner,
  o: { metadata?: unknown; transfer_data?: unknown; application_fee_amount?: number | null },
  onAccount: boolean,
): boolean {
  const m = meta(o);
  if (!onAccount) {
    const destination = idOf((o.transfer_data as Obj | null | undefined)?.destination);
    return m.tenant_id === owner.tenantId || destination === owner.stripeAccountId;
  }
  return Boolean(m.payment_route_id || m.tenant_id || o.application_fee_amount !== null);
}

/** What an event says about who it concerns, before any lookup. */
export interface TenantHints {
  /** `event.account`: a connected account's event (Connect endpoint). */
  account: string | null;
  /** `data.object.metadata.tenant_id`, which the service sets on the objects it creates on the platform. */
  metadataTenantId: string | null;
  /** Connected accounts the platform object points at, in order of trust. */
  accountIds: string[];
  /** PaymentIntents the object is or belongs to (matched against PaymentRoutes). */
  paymentIntentIds: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Stripe fields hold an id, or the object itself when expanded. */
function idOf(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (isObj(v) && typeof v.id === 'string') return v.id;
  return null;
}

function nonEmpty(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/**
 * Reads the tenant hints out of an event. Platform events (destination charges, transfers, application fees)
 * carry no `account`; they name the connected account through the object
 * (https://docs.stripe.com/connect/destination-charges, https://docs.stripe.com/api/application_fees/object).
 */
export function tenantHintsOf(event: { account?: string | null; data?: { object?: unknown } }): TenantHints {
  const object = isObj(event.data?.object) ? event.data.object : {};
  const metadata = isObj(object.metadata) ? object.metadata : {};
  const transferData = isObj(object.transfer_data) ? object.transfer_data : {};

  const accountIds = [
    idOf(transferData.destination),
    idOf(object.on_behalf_of),
    idOf(object.destination),
    // An application fee names the connected account that paid it.
    object.object === 'application_fee' ? idOf(object.account) : null,
  ].filter((v): v is string => v !== null && v.startsWith('acct_'));

  const paymentIntentIds = [
    object.object === 'payment_intent' ? idOf(object.id) : null,
    idOf(object.payment_intent),
  ].filter((v): v is string => v !== null);

  return {
    account: nonEmpty(event.account),
    metadataTenantId: nonEmpty(metadata.tenant_id),
    accountIds: [...new Set(accountIds)],
    paymentIntentIds: [...new Set(paymentIntentIds)],
  };
}

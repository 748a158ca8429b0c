import type { ConnectAccountEntity } from '@app/database';
import type { PaymentContext } from './rule-types';

/** The payment facts a rule may look at; what the request does not give is absent (null). */
export interface PaymentFacts {
  amount: number;
  currency: string;
  metadata?: Record<string, string>;
  payment_method_type?: string;
  card?: { brand?: string; country?: string };
}

/** Builds what rules see of a payment: the request's facts and the tenant's account as last synced. */
export function paymentContext(
  routeId: string,
  tenantId: string,
  p: PaymentFacts,
  account: ConnectAccountEntity | null,
): PaymentContext {
  return {
    route_id: routeId,
    amount: p.amount,
    currency: p.currency.trim(),
    tenant_id: tenantId,
    tenant: account?.metadata ?? {},
    account: account
      ? {
          country: account.country ?? null,
          status: account.disconnected_at ? 'disconnected' : account.status,
          capabilities: account.capabilities ?? {},
        }
      : null,
    payment_method_type: p.payment_method_type ?? 'card',
    card: p.card ? { brand: p.card.brand ?? null, country: p.card.country ?? null } : null,
    metadata: p.metadata ?? {},
  };
}

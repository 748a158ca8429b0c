import { ChargeType, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';

/** A payment route as the comparers read it; `over` sets what a case is about. */
export function routeOf(over: Partial<PaymentRouteEntity> = {}): PaymentRouteEntity {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    tenant_id: 'tenant-a',
    type: PaymentRouteType.Payment,
    status: PaymentRouteStatus.Completed,
    amount: 1000,
    fee: 100,
    currency: 'usd',
    charge_type: ChargeType.Direct,
    stripe_account_id: 'acct_a',
    stripe_payment_intent_id: 'pi_1',
    stripe_object_id: null,
    stripe_status: 'succeeded',
    parent_id: null,
    created_at: new Date('2026-01-01T00:00:00Z'),
    updated_at: new Date('2026-01-01T00:01:00Z'),
    ...over,
  } as PaymentRouteEntity;
}

/** Unix seconds of an ISO time, as Stripe's `created`. */
export const unix = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** A Stripe object of the comparers' input type, from the fields a case needs. */
export const stripeObject = <T>(o: Record<string, unknown>): T => o as unknown as T;

import { ErrorCode, ServiceException } from '@app/common';
import { ChargeType, ConnectAccountEntity, ConnectAccountStatus, PaymentAttempt } from '@app/database';
import type { Route } from '../routing/rule-types';
import type { PaymentDataDto } from './dto/payment.dto';

/** One route of a payment made concrete: what one attempt sends to Stripe. */
export interface AttemptPlan {
  /** The route as the rule wrote it (recorded on the attempt). */
  route: Route;
  chargeType: ChargeType;
  fee: number;
  /** The request's input with the route applied (capture method, descriptor suffix, on_behalf_of). */
  input: PaymentDataDto;
  stripeAccount?: string;
  destination?: string;
  transferGroup?: string;
  /** Split payments: each tenant's transfer, in the split's order. */
  transfers: { tenant_id: string; stripe_account_id: string; amount: number }[];
}

/** AccountInvalid with the reason when the tenant cannot take charges, before Stripe is called. */
export function chargeable(tenantId: string, account: ConnectAccountEntity | null): ConnectAccountEntity {
  const refuse = (reason: string, message: string): never => {
    throw new ServiceException(ErrorCode.AccountInvalid, message, { tenant_id: tenantId, reason });
  };
  if (!account) return refuse('not_connected', `Tenant ${tenantId} has no connected Stripe account`);
  if (account.disconnected_at)
    return refuse('disconnected', `Tenant ${tenantId}'s Stripe account is disconnected`);
  if (account.status !== ConnectAccountStatus.Active) {
    return refuse(
      `status_${account.status}`,
      `Tenant ${tenantId}'s Stripe account is ${account.status}, not active`,
    );
  }
  if (!account.charges_enabled)
    return refuse('charges_disabled', `Tenant ${tenantId}'s Stripe account cannot take charges`);
  return account;
}

/** An account serves nothing once disconnected or disabled (rejected). */
export const servesNothing = (a: ConnectAccountEntity): boolean =>
  a.disconnected_at !== null || a.status === ConnectAccountStatus.Disabled;

/** A capability counts as off when Stripe reported it and not `active` (unreported: Stripe decides). */
const off = (a: ConnectAccountEntity, name: string): boolean => {
  const state = a.capabilities?.[name];
  return state !== undefined && state !== 'active';
};

/**
 * Why a route cannot serve right now, from the capability states the account webhooks keep current, or null:
 * a direct charge needs `card_payments`, a destination charge or a split transfer needs `transfers`
 * (https://docs.stripe.com/connect/account-capabilities).
 */
export function ineligibility(
  plan: AttemptPlan,
  account: ConnectAccountEntity,
  splitAccounts: ReadonlyMap<string, ConnectAccountEntity>,
): string | null {
  if (plan.chargeType === ChargeType.Direct) {
    if (
      off(account, 'card_payments') ||
      (account.capabilities?.card_payments === undefined && !account.charges_enabled)
    )
      return 'card_payments_inactive';
  }
  if (plan.chargeType === ChargeType.Destination && off(account, 'transfers')) return 'transfers_inactive';
  for (const t of plan.transfers) {
    const a = splitAccounts.get(t.tenant_id);
    if (!a || servesNothing(a)) return `split_tenant_unavailable:${t.tenant_id}`;
    if (off(a, 'transfers')) return `transfers_inactive:${t.tenant_id}`;
  }
  return null;
}

/** Stripe's codes for refusals on the connected account's side (https://docs.stripe.com/error-codes). */
const ACCOUNT_SIDE_CODES = new Set([
  'insufficient_capabilities_for_transfer',
  'transfers_not_allowed',
  'account_invalid',
  'application_fees_not_allowed',
]);

export interface StripeErrorFacts {
  type?: string;
  code?: string;
  param?: string;
  decline_code?: string;
}

/**
 * A refusal another route may get past: one of the account-side codes, or the refusal of a direct charge on an
 * account without `card_payments`, which Stripe sends as an invalid_request_error with neither code nor param:
 * recognised by that shape on a direct charge, and only then by the capability it names.
 */
export function accountSideRefusal(
  stripe: StripeErrorFacts,
  chargeType: ChargeType,
  message: string,
): string | null {
  if (stripe.code && ACCOUNT_SIDE_CODES.has(stripe.code)) return stripe.code;
  if (
    chargeType === ChargeType.Direct &&
    stripe.type === 'invalid_request_error' &&
    !stripe.code &&
    !stripe.param &&
    message.includes('card_payments')
  )
    return 'card_payments_inactive';
  return null;
}

/**
 * The attempts once Stripe's answer to an unknown one is learned (by webhook or by the reconcile job): the last
 * attempt, if unknown, takes the PaymentIntent. Unchanged otherwise.
 */
export function resolveUnknownAttempt(attempts: PaymentAttempt[], paymentIntent: string): PaymentAttempt[] {
  const last = attempts[attempts.length - 1];
  if (!last || last.outcome !== 'unknown') return attempts;
  return [...attempts.slice(0, -1), { ...last, outcome: 'succeeded', payment_intent: paymentIntent }];
}

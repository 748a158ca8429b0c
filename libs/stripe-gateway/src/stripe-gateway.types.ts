import type Stripe from 'stripe';

/*
 * Stripe's own object and parameter types, re-exported so that nothing outside this library imports `stripe`
 * (one gateway to Stripe, enforced by dependency-cruiser).
 */
export type StripeAccount = Stripe.Account;
export type StripeAccountCreateParams = Stripe.AccountCreateParams;
export type StripeAccountUpdateParams = Stripe.AccountUpdateParams;
export type StripeAccountLink = Stripe.AccountLink;
export type StripeAccountLinkCreateParams = Stripe.AccountLinkCreateParams;
export type StripePaymentIntent = Stripe.PaymentIntent;
export type StripePaymentIntentCreateParams = Stripe.PaymentIntentCreateParams;
export type StripePaymentIntentListParams = Stripe.PaymentIntentListParams;
export type StripeRefund = Stripe.Refund;
export type StripeRefundCreateParams = Stripe.RefundCreateParams;
export type StripeCustomer = Stripe.Customer;
export type StripeCustomerCreateParams = Stripe.CustomerCreateParams;
export type StripePrice = Stripe.Price;
export type StripePriceCreateParams = Stripe.PriceCreateParams;
export type StripeSubscription = Stripe.Subscription;
export type StripeSubscriptionCreateParams = Stripe.SubscriptionCreateParams;
export type StripeSubscriptionCancelParams = Stripe.SubscriptionCancelParams;
export type StripeSubscriptionListParams = Stripe.SubscriptionListParams;
export type StripeInvoice = Stripe.Invoice;
export type StripeInvoiceListParams = Stripe.InvoiceListParams;
export type StripeEvent = Stripe.Event;
export type StripeEventType = Stripe.Event.Type;
export type StripeApplicationFee = Stripe.ApplicationFee;
export type StripeApplicationFeeListParams = Stripe.ApplicationFeeListParams;
export type StripeApplicationFeeRefundCreateParams = Stripe.ApplicationFeeCreateRefundParams;
export type StripeFeeRefund = Stripe.FeeRefund;
export type StripeCharge = Stripe.Charge;
export type StripeChargeListParams = Stripe.ChargeListParams;
export type StripeRefundListParams = Stripe.RefundListParams;
export type StripeTransfer = Stripe.Transfer;
export type StripeTransferCreateParams = Stripe.TransferCreateParams;
export type StripeTransferUpdateParams = Stripe.TransferUpdateParams;
export type StripeTransferListParams = Stripe.TransferListParams;
export type StripeTransferReversal = Stripe.TransferReversal;
export type StripeTransferReversalCreateParams = Stripe.TransferCreateReversalParams;
export type StripePayout = Stripe.Payout;
export type StripePayoutListParams = Stripe.PayoutListParams;
export type StripeBalanceTransaction = Stripe.BalanceTransaction;
export type StripeBalanceTransactionListParams = Stripe.BalanceTransactionListParams;
export type StripePaginationParams = Stripe.PaginationParams;
export type StripeWebhookEndpoint = Stripe.WebhookEndpoint;
export type StripeWebhookEndpointCreateParams = Stripe.WebhookEndpointCreateParams;
export type StripeOAuthToken = Stripe.OAuthToken;
export type StripeOAuthDeauthorization = Stripe.OAuthDeauthorization;
export type StripeList<T> = Stripe.ApiList<T>;

/** Per-call options: the connected account to act on and the idempotency key of the logical operation. */
export interface StripeCallOptions {
  /** Sent as `Stripe-Account`: the call acts on that connected account (direct charges, its events...). */
  stripeAccount?: string;
  /**
   * Reused across every retry of this call. Pass a deterministic key derived from your own record (e.g. the
   * PaymentRoute id) so that a retry of the *caller* cannot create a second object either; when absent the
   * gateway generates one per logical call. https://docs.stripe.com/api/idempotent_requests
   */
  idempotencyKey?: string;
}

/** Options for reads: only the account scope applies (idempotency keys are meaningless on GET/DELETE). */
export interface StripeReadOptions {
  stripeAccount?: string;
}

export interface OAuthAuthorizeUrlInput {
  state: string;
  scope?: 'read_write' | 'read_only';
  redirectUri?: string;
  stripeUser?: NonNullable<Stripe.OAuthAuthorizeUrlParams['stripe_user']>;
  stripeLanding?: 'login' | 'register';
}

/** `GET /v1/events` in the gateway's terms (https://docs.stripe.com/api/events/list). */
export interface ListEventsQuery {
  /** Unix seconds. Stripe keeps events for 30 days. */
  createdGte?: number;
  createdLte?: number;
  types?: string[];
  /** List a connected account's events; without it the platform's own. */
  stripeAccount?: string;
  startingAfter?: string;
  endingBefore?: string;
  /** 1..100, Stripe's default 10. */
  limit?: number;
  deliverySuccess?: boolean;
}

/** Stripe operation families: each has its own circuit breaker, so a failing area does not stop the others. */
export const OPERATION_FAMILIES = [
  'oauth',
  'accounts',
  'payments',
  'refunds',
  'billing',
  'events',
  'reporting',
  'webhooks',
] as const;
export type OperationFamily = (typeof OPERATION_FAMILIES)[number];

export type CircuitStateName = 'closed' | 'half_open' | 'open';

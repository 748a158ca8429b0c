import type Stripe from 'stripe';

/* Stripe's v2 (and Account Session) objects and parameters, re-exported so nothing outside this library imports `stripe`. */
export type StripeV2Account = Stripe.V2.Core.Account;
export type StripeV2AccountCreateParams = Stripe.V2.Core.AccountCreateParams;
export type StripeV2AccountUpdateParams = Stripe.V2.Core.AccountUpdateParams;
export type StripeV2AccountLink = Stripe.V2.Core.AccountLink;
export type StripeV2AccountLinkCreateParams = Stripe.V2.Core.AccountLinkCreateParams;
export type StripeV2Event = Stripe.V2.Core.Event;
export type StripeV2EventNotification = Stripe.V2.Core.EventNotification;
export type StripeV2EventDestination = Stripe.V2.Core.EventDestination;
export type StripeV2EventDestinationCreateParams = Stripe.V2.Core.EventDestinationCreateParams;
export type StripeV2EventDestinationUpdateParams = Stripe.V2.Core.EventDestinationUpdateParams;
export type StripeAccountSession = Stripe.AccountSession;
export type StripeAccountSessionCreateParams = Stripe.AccountSessionCreateParams;
export type StripeV2Configuration = 'customer' | 'merchant' | 'recipient';

/** `GET /v2/core/events` in the gateway's terms (the last 30 days only). */
export interface ListV2EventsQuery {
  /** Unix seconds. */
  createdGte?: number;
  createdLte?: number;
  types?: string[];
  objectId?: string;
  limit?: number;
  /** `Stripe-Context`: a connected account's events (e.g. `acct_...`). */
  context?: string;
}

import type {
  CircuitStateName,
  ListEventsQuery,
  OAuthAuthorizeUrlInput,
  OperationFamily,
  StripeAccount,
  StripeAccountCreateParams,
  StripeAccountLink,
  StripeAccountLinkCreateParams,
  StripeAccountUpdateParams,
  StripeApplicationFee,
  StripeApplicationFeeListParams,
  StripeApplicationFeeRefundCreateParams,
  StripeBalanceTransaction,
  StripeBalanceTransactionListParams,
  StripeCallOptions,
  StripeCharge,
  StripeChargeListParams,
  StripeCustomer,
  StripeCustomerCreateParams,
  StripeEvent,
  StripeFeeRefund,
  StripeList,
  StripeOAuthDeauthorization,
  StripeOAuthToken,
  StripePaginationParams,
  StripePaymentIntent,
  StripePaymentIntentCreateParams,
  StripePaymentIntentListParams,
  StripePayout,
  StripePayoutListParams,
  StripePrice,
  StripePriceCreateParams,
  StripeReadOptions,
  StripeRefund,
  StripeRefundCreateParams,
  StripeRefundListParams,
  StripeSubscription,
  StripeSubscriptionCancelParams,
  StripeSubscriptionCreateParams,
  StripeSubscriptionListParams,
  StripeInvoice,
  StripeInvoiceListParams,
  StripeTransfer,
  StripeTransferCreateParams,
  StripeTransferListParams,
  StripeTransferReversal,
  StripeTransferReversalCreateParams,
  StripeTransferUpdateParams,
  StripeWebhookEndpoint,
  StripeWebhookEndpointCreateParams,
} from './stripe-gateway.types';
import type { StripeMoneyGateway } from './stripe-money.gateway';
import type { StripeV2Gateway } from './stripe-v2.gateway';

/**
 * The only way the service talks to Stripe, and the injection token for it. Every method either returns
 * Stripe's object or throws a ServiceException (OAuthFailed OAuth, WebhookInvalid webhook, StripeUnavailable Stripe
 * unavailable, StripeRequestFailed Stripe rejected the request, CardDeclined card declined) whose `details.stripe`
 * carries Stripe's type, code, decline_code, param, request_id and status.
 */
export abstract class StripeGateway {
  /** Balances, payouts and disputes (in their own file: this class is the contract of everything else). */
  abstract readonly money: StripeMoneyGateway;
  /** Accounts v2, account sessions, v2 events and event destinations. */
  abstract readonly v2: StripeV2Gateway;

  /** A URL to send the user to; pure, never calls Stripe. https://docs.stripe.com/connect/oauth-reference */
  abstract oauthAuthorizeUrl(input: OAuthAuthorizeUrlInput): string;
  /** Exchanges a single-use code. Never retried once it may have reached Stripe: a reused code revokes the grant. */
  abstract oauthToken(code: string): Promise<StripeOAuthToken>;
  abstract oauthDeauthorize(stripeUserId: string): Promise<StripeOAuthDeauthorization>;

  abstract createAccount(
    params: StripeAccountCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccount>;
  abstract retrieveAccount(id: string): Promise<StripeAccount>;
  abstract updateAccount(
    id: string,
    params: StripeAccountUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccount>;
  abstract rejectAccount(id: string, reason: string, options?: StripeCallOptions): Promise<StripeAccount>;
  abstract createAccountLink(
    params: StripeAccountLinkCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccountLink>;

  abstract createPaymentIntent(
    params: StripePaymentIntentCreateParams,
    options: StripeCallOptions,
  ): Promise<StripePaymentIntent>;
  abstract retrievePaymentIntent(id: string, options?: StripeReadOptions): Promise<StripePaymentIntent>;
  /** The PaymentIntents of an account (the payments suites check what Stripe holds through it). */
  abstract listPaymentIntents(
    params?: StripePaymentIntentListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePaymentIntent>>;

  abstract createRefund(params: StripeRefundCreateParams, options: StripeCallOptions): Promise<StripeRefund>;

  abstract createCustomer(
    params: StripeCustomerCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeCustomer>;
  abstract createPrice(params: StripePriceCreateParams, options?: StripeCallOptions): Promise<StripePrice>;
  abstract createSubscription(
    params: StripeSubscriptionCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeSubscription>;
  abstract cancelSubscription(
    id: string,
    params?: StripeSubscriptionCancelParams,
    options?: StripeReadOptions,
  ): Promise<StripeSubscription>;

  abstract listSubscriptions(
    params?: StripeSubscriptionListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeSubscription>>;

  abstract listInvoices(
    params?: StripeInvoiceListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeInvoice>>;

  abstract listEvents(query?: ListEventsQuery): Promise<StripeList<StripeEvent>>;
  abstract listApplicationFees(
    params?: StripeApplicationFeeListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeApplicationFee>>;
  abstract listTransfers(
    params?: StripeTransferListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransfer>>;
  /**
   * `GET /v1/balance_transactions`; `payout` lists what an automatic payout carried (Stripe answers
   * `payout_reconciliation_not_ready` until the payout's reconciliation completes).
   */
  abstract listBalanceTransactions(
    params?: StripeBalanceTransactionListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeBalanceTransaction>>;
  abstract retrieveBalanceTransaction(
    id: string,
    options?: StripeReadOptions,
  ): Promise<StripeBalanceTransaction>;

  // --- Charges and refunds, as Stripe holds them (reconciliation) ---
  abstract listCharges(
    params?: StripeChargeListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeCharge>>;
  abstract retrieveCharge(id: string, options?: StripeReadOptions): Promise<StripeCharge>;
  /** Reconciliation re-reads a refund the lists did not show before calling it missing. */
  abstract retrieveRefund(id: string, options?: StripeReadOptions): Promise<StripeRefund>;
  abstract listRefunds(
    params?: StripeRefundListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeRefund>>;

  // --- Separate charges and transfers (https://docs.stripe.com/connect/separate-charges-and-transfers) ---
  /** `source_transaction` takes the charge (`ch_`), not the PaymentIntent. */
  abstract createTransfer(
    params: StripeTransferCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeTransfer>;
  abstract retrieveTransfer(id: string, options?: StripeReadOptions): Promise<StripeTransfer>;
  /** Only `description` and `metadata` can change. */
  abstract updateTransfer(
    id: string,
    params: StripeTransferUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeTransfer>;
  /** `amount` omitted reverses what remains. https://docs.stripe.com/api/transfer_reversals/create */
  abstract createTransferReversal(
    transferId: string,
    params: StripeTransferReversalCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeTransferReversal>;
  abstract listTransferReversals(
    transferId: string,
    params?: StripePaginationParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransferReversal>>;

  // --- Application fee refunds (https://docs.stripe.com/api/fee_refunds) ---
  abstract createApplicationFeeRefund(
    feeId: string,
    params: StripeApplicationFeeRefundCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeFeeRefund>;
  abstract listApplicationFeeRefunds(
    feeId: string,
    params?: StripePaginationParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeFeeRefund>>;

  // --- Payouts of a connected account (pass its `stripeAccount`) ---
  abstract listPayouts(
    params?: StripePayoutListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePayout>>;
  abstract retrievePayout(id: string, options?: StripeReadOptions): Promise<StripePayout>;

  /** Registers a webhook endpoint; the answer carries the `whsec_` secret, once. */
  abstract createWebhookEndpoint(
    params: StripeWebhookEndpointCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeWebhookEndpoint>;

  /**
   * Verifies a `Stripe-Signature` against every secret (rotation: old and new are both valid for a while)
   * and returns the event. Throws WebhookInvalid with `details.reason` = missing_signature | malformed |
   * no_matching_signature | timestamp_out_of_tolerance | no_secret_configured.
   */
  abstract verifyWebhook(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    secrets: string[],
    toleranceSeconds?: number,
  ): StripeEvent;

  /** The state of each family's circuit breaker (for readiness probes and dashboards). */
  abstract circuitStates(): Record<OperationFamily, CircuitStateName>;

  /**
   * Pages through any Stripe list, newest first, until exhausted or `maxPages`: `fetchPage` gets the cursor
   * (`starting_after`) and calls one of the list methods above, so each page has the usual resilience.
   */
  async *iterateList<T extends { id: string }>(
    fetchPage: (startingAfter: string | undefined) => Promise<StripeList<T>>,
    maxPages = Number.POSITIVE_INFINITY,
  ): AsyncGenerator<T> {
    let startingAfter: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const list = await fetchPage(startingAfter);
      for (const item of list.data) yield item;
      const last = list.data[list.data.length - 1];
      if (!list.has_more || !last) return;
      startingAfter = last.id;
    }
  }

  /**
   * Pages through `GET /v1/events` (newest first, as Stripe lists them) until exhausted or `maxPages`.
   * Each page goes through the same resilience as any other call.
   */
  async *iterateEvents(
    query: ListEventsQuery = {},
    maxPages = Number.POSITIVE_INFINITY,
  ): AsyncGenerator<StripeEvent> {
    let startingAfter = query.startingAfter;
    for (let page = 0; page < maxPages; page++) {
      const list = await this.listEvents({ ...query, startingAfter, limit: query.limit ?? 100 });
      for (const event of list.data) yield event;
      const last = list.data[list.data.length - 1];
      if (!list.has_more || !last) return;
      startingAfter = last.id;
    }
  }
}

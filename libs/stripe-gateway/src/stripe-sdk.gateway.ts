import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import { rewriteAuthorizeUrlOrigin } from './oauth-authorize-url';
import type { RetryMode } from './retry-decision';
import type { StripeConnection } from './stripe-connection';
import { StripeGateway } from './stripe.gateway';
import { StripeMoneyGateway, StripeSdkMoneyGateway } from './stripe-money.gateway';
import { StripeSdkV2Gateway, StripeV2Gateway } from './stripe-v2.gateway';
import {
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
import { compact, readOptions, sdkHostOptions, writeOptions } from './stripe-request-options';
import { StripeResilience, StripeResilienceOptions } from './stripe-resilience';
import { verifyStripeWebhook } from './verify-stripe-webhook';

export interface StripeSdkGatewayOptions extends StripeResilienceOptions {
  /** `ca_...`, for the authorize URL and deauthorization. The emulator accepts any. */
  connectClientId?: string;
}

/**
 * StripeGateway on the official SDK. Every call goes through, outermost first: a bulkhead (bounded
 * concurrency), a retry policy (exponential backoff with jitter, honouring Retry-After and
 * Stripe-Should-Retry, the same idempotency key on every attempt), the family's circuit breaker (counts only
 * infrastructure failures) and a per-attempt timeout. The SDK's own retries are off so this policy is the only
 * one (https://docs.stripe.com/error-handling).
 */
export class StripeSdkGateway extends StripeGateway {
  // Private fields stay out of util.inspect / JSON output, so logging the gateway never prints the key.
  readonly #stripe: Stripe;
  readonly #apiBase: string | undefined;
  readonly #clientId: string | undefined;
  readonly #resilience: StripeResilience;
  readonly money: StripeMoneyGateway;
  readonly v2: StripeV2Gateway;

  constructor(connection: StripeConnection, options: StripeSdkGatewayOptions = {}) {
    super();
    this.#resilience = new StripeResilience(connection.secretKey, options);
    this.#apiBase = connection.apiBase;
    this.#clientId = options.connectClientId ?? (connection.emulated ? 'ca_emulator' : undefined);
    this.#stripe = new Stripe(connection.secretKey, {
      maxNetworkRetries: 0,
      // The SDK's timeout aborts the socket; the cockatiel timeout below is the hard deadline per attempt.
      timeout: this.#resilience.timeoutMs,
      ...(connection.apiBase ? sdkHostOptions(connection.apiBase) : {}),
    });

    this.money = new StripeSdkMoneyGateway(this.#stripe, (op, family, mode, attempt) =>
      this.run(op, family, mode, attempt),
    );
    this.v2 = new StripeSdkV2Gateway(
      this.#stripe,
      (op, family, mode, attempt) => this.run(op, family, mode, attempt),
      writeOptions,
    );
  }

  /** Runs one logical call through the resilience policy (see StripeResilience.run). */
  private run<T>(
    operation: string,
    family: OperationFamily,
    mode: RetryMode,
    attempt: () => Promise<T>,
  ): Promise<T> {
    return this.#resilience.run(operation, family, mode, attempt);
  }

  private clientId(): string {
    if (!this.#clientId) {
      throw new ServiceException(
        ErrorCode.OAuthFailed,
        'Stripe Connect OAuth is not configured (STRIPE_CONNECT_CLIENT_ID)',
      );
    }
    return this.#clientId;
  }

  // --- OAuth (https://docs.stripe.com/connect/oauth-reference) ---

  oauthAuthorizeUrl(input: OAuthAuthorizeUrlInput): string {
    const url = this.#stripe.oauth.authorizeUrl(
      compact({
        response_type: 'code' as const,
        client_id: this.clientId(),
        scope: input.scope ?? 'read_write',
        state: input.state,
        redirect_uri: input.redirectUri,
        stripe_user: input.stripeUser,
        stripe_landing: input.stripeLanding,
      }),
    );
    return rewriteAuthorizeUrlOrigin(url, this.#apiBase);
  }

  oauthToken(code: string): Promise<StripeOAuthToken> {
    return this.run('oauth.token', 'oauth', 'unsafe', () =>
      this.#stripe.oauth.token({ grant_type: 'authorization_code', code }),
    );
  }

  oauthDeauthorize(stripeUserId: string): Promise<StripeOAuthDeauthorization> {
    const clientId = this.clientId();
    return this.run('oauth.deauthorize', 'oauth', 'unsafe', () =>
      this.#stripe.oauth.deauthorize({ client_id: clientId, stripe_user_id: stripeUserId }),
    );
  }

  // --- Accounts ---

  createAccount(params: StripeAccountCreateParams, options?: StripeCallOptions): Promise<StripeAccount> {
    const ro = writeOptions(options);
    return this.run('accounts.create', 'accounts', 'idempotent', () =>
      this.#stripe.accounts.create(params, ro),
    );
  }

  retrieveAccount(id: string): Promise<StripeAccount> {
    return this.run('accounts.retrieve', 'accounts', 'idempotent', () => this.#stripe.accounts.retrieve(id));
  }

  updateAccount(
    id: string,
    params: StripeAccountUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccount> {
    const ro = writeOptions(options);
    return this.run('accounts.update', 'accounts', 'idempotent', () =>
      this.#stripe.accounts.update(id, params, ro),
    );
  }

  rejectAccount(id: string, reason: string, options?: StripeCallOptions): Promise<StripeAccount> {
    const ro = writeOptions(options);
    return this.run('accounts.reject', 'accounts', 'idempotent', () =>
      this.#stripe.accounts.reject(id, { reason }, ro),
    );
  }

  createAccountLink(
    params: StripeAccountLinkCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccountLink> {
    const ro = writeOptions(options);
    return this.run('account_links.create', 'accounts', 'idempotent', () =>
      this.#stripe.accountLinks.create(params, ro),
    );
  }

  // --- Payments ---

  createPaymentIntent(
    params: StripePaymentIntentCreateParams,
    options: StripeCallOptions,
  ): Promise<StripePaymentIntent> {
    const ro = writeOptions(options);
    return this.run('payment_intents.create', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.create(params, ro),
    );
  }

  retrievePaymentIntent(id: string, options?: StripeReadOptions): Promise<StripePaymentIntent> {
    const ro = readOptions(options);
    return this.run('payment_intents.retrieve', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.retrieve(id, {}, ro),
    );
  }

  listPaymentIntents(
    params: StripePaymentIntentListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePaymentIntent>> {
    const ro = readOptions(options);
    return this.run('payment_intents.list', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.list(params, ro),
    );
  }

  // --- Refunds ---

  createRefund(params: StripeRefundCreateParams, options: StripeCallOptions): Promise<StripeRefund> {
    const ro = writeOptions(options);
    return this.run('refunds.create', 'refunds', 'idempotent', () => this.#stripe.refunds.create(params, ro));
  }

  // --- Billing ---

  createCustomer(params: StripeCustomerCreateParams, options?: StripeCallOptions): Promise<StripeCustomer> {
    const ro = writeOptions(options);
    return this.run('customers.create', 'billing', 'idempotent', () =>
      this.#stripe.customers.create(params, ro),
    );
  }

  createPrice(params: StripePriceCreateParams, options?: StripeCallOptions): Promise<StripePrice> {
    const ro = writeOptions(options);
    return this.run('prices.create', 'billing', 'idempotent', () => this.#stripe.prices.create(params, ro));
  }

  createSubscription(
    params: StripeSubscriptionCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeSubscription> {
    const ro = writeOptions(options);
    return this.run('subscriptions.create', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.create(params, ro),
    );
  }

  cancelSubscription(
    id: string,
    params: StripeSubscriptionCancelParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeSubscription> {
    const ro = readOptions(options);
    return this.run('subscriptions.cancel', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.cancel(id, params, ro),
    );
  }

  listSubscriptions(
    params: StripeSubscriptionListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeSubscription>> {
    const ro = readOptions(options);
    return this.run('subscriptions.list', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.list(params, ro),
    );
  }

  listInvoices(
    params: StripeInvoiceListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeInvoice>> {
    const ro = readOptions(options);
    return this.run('invoices.list', 'billing', 'idempotent', () => this.#stripe.invoices.list(params, ro));
  }

  // --- Events and reporting ---

  listEvents(query: ListEventsQuery = {}): Promise<StripeList<StripeEvent>> {
    const created = compact({ gte: query.createdGte, lte: query.createdLte });
    const params: Stripe.EventListParams = compact({
      created: Object.keys(created).length > 0 ? created : undefined,
      types: query.types && query.types.length > 0 ? query.types : undefined,
      limit: query.limit,
      starting_after: query.startingAfter,
      ending_before: query.endingBefore,
      delivery_success: query.deliverySuccess,
    });
    const ro = readOptions({ stripeAccount: query.stripeAccount });
    return this.run('events.list', 'events', 'idempotent', () => this.#stripe.events.list(params, ro));
  }

  listApplicationFees(
    params: StripeApplicationFeeListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeApplicationFee>> {
    const ro = readOptions(options);
    return this.run('application_fees.list', 'reporting', 'idempotent', () =>
      this.#stripe.applicationFees.list(params, ro),
    );
  }

  listTransfers(
    params: StripeTransferListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransfer>> {
    const ro = readOptions(options);
    return this.run('transfers.list', 'reporting', 'idempotent', () =>
      this.#stripe.transfers.list(params, ro),
    );
  }

  listBalanceTransactions(
    params: StripeBalanceTransactionListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeBalanceTransaction>> {
    const ro = readOptions(options);
    return this.run('balance_transactions.list', 'reporting', 'idempotent', () =>
      this.#stripe.balanceTransactions.list(params, ro),
    );
  }

  retrieveBalanceTransaction(id: string, options?: StripeReadOptions): Promise<StripeBalanceTransaction> {
    const ro = readOptions(options);
    return this.run('balance_transactions.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.balanceTransactions.retrieve(id, {}, ro),
    );
  }

  listCharges(
    params: StripeChargeListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeCharge>> {
    const ro = readOptions(options);
    return this.run('charges.list', 'reporting', 'idempotent', () => this.#stripe.charges.list(params, ro));
  }

  retrieveRefund(id: string, options?: StripeReadOptions): Promise<StripeRefund> {
    const ro = readOptions(options);
    return this.run('refunds.retrieve', 'refunds', 'idempotent', () =>
      this.#stripe.refunds.retrieve(id, {}, ro),
    );
  }

  retrieveCharge(id: string, options?: StripeReadOptions): Promise<StripeCharge> {
    const ro = readOptions(options);
    return this.run('charges.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.charges.retrieve(id, {}, ro),
    );
  }

  listRefunds(
    params: StripeRefundListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeRefund>> {
    const ro = readOptions(options);
    return this.run('refunds.list', 'reporting', 'idempotent', () => this.#stripe.refunds.list(params, ro));
  }

  // --- Transfers ---

  createTransfer(params: StripeTransferCreateParams, options: StripeCallOptions): Promise<StripeTransfer> {
    const ro = writeOptions(options);
    return this.run('transfers.create', 'payments', 'idempotent', () =>
      this.#stripe.transfers.create(params, ro),
    );
  }

  retrieveTransfer(id: string, options?: StripeReadOptions): Promise<StripeTransfer> {
    const ro = readOptions(options);
    return this.run('transfers.retrieve', 'payments', 'idempotent', () =>
      this.#stripe.transfers.retrieve(id, {}, ro),
    );
  }

  updateTransfer(
    id: string,
    params: StripeTransferUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeTransfer> {
    const ro = writeOptions(options);
    return this.run('transfers.update', 'payments', 'idempotent', () =>
      this.#stripe.transfers.update(id, params, ro),
    );
  }

  createTransferReversal(
    transferId: string,
    params: StripeTransferReversalCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeTransferReversal> {
    const ro = writeOptions(options);
    return this.run('transfers.create_reversal', 'refunds', 'idempotent', () =>
      this.#stripe.transfers.createReversal(transferId, params, ro),
    );
  }

  listTransferReversals(
    transferId: string,
    params: StripePaginationParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransferReversal>> {
    const ro = readOptions(options);
    return this.run('transfers.list_reversals', 'reporting', 'idempotent', () =>
      this.#stripe.transfers.listReversals(transferId, params, ro),
    );
  }

  // --- Application fee refunds ---

  createApplicationFeeRefund(
    feeId: string,
    params: StripeApplicationFeeRefundCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeFeeRefund> {
    const ro = writeOptions(options);
    return this.run('application_fees.create_refund', 'refunds', 'idempotent', () =>
      this.#stripe.applicationFees.createRefund(feeId, params, ro),
    );
  }

  listApplicationFeeRefunds(
    feeId: string,
    params: StripePaginationParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeFeeRefund>> {
    const ro = readOptions(options);
    return this.run('application_fees.list_refunds', 'reporting', 'idempotent', () =>
      this.#stripe.applicationFees.listRefunds(feeId, params, ro),
    );
  }

  // --- Payouts ---

  listPayouts(
    params: StripePayoutListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePayout>> {
    const ro = readOptions(options);
    return this.run('payouts.list', 'reporting', 'idempotent', () => this.#stripe.payouts.list(params, ro));
  }

  retrievePayout(id: string, options?: StripeReadOptions): Promise<StripePayout> {
    const ro = readOptions(options);
    return this.run('payouts.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.payouts.retrieve(id, {}, ro),
    );
  }

  // --- Webhooks ---

  createWebhookEndpoint(
    params: StripeWebhookEndpointCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeWebhookEndpoint> {
    const ro = writeOptions(options);
    return this.run('webhook_endpoints.create', 'webhooks', 'idempotent', () =>
      this.#stripe.webhookEndpoints.create(params, ro),
    );
  }

  verifyWebhook(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    secrets: string[],
    toleranceSeconds = 300,
  ): StripeEvent {
    return verifyStripeWebhook(rawBody, signatureHeader, secrets, toleranceSeconds);
  }

  circuitStates(): Record<OperationFamily, CircuitStateName> {
    return this.#resilience.circuitStates();
  }
}

import { randomUUID } from 'node:crypto';
import {
  BulkheadPolicy,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  RetryPolicy,
  TimeoutPolicy,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
} from 'cockatiel';
import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import { mapStripeError, outcomeOf } from './map-stripe-error';
import { rewriteAuthorizeUrlOrigin } from './oauth-authorize-url';
import {
  RetryMode,
  isInfrastructureFailure,
  isRetryableFailure,
  retryAfterAwareBackoff,
} from './retry-decision';
import type { StripeConnection } from './stripe-connection';
import { StripeGateway } from './stripe.gateway';
import { StripeMoneyGateway, StripeSdkMoneyGateway } from './stripe-money.gateway';
import { StripeSdkV2Gateway, StripeV2Gateway } from './stripe-v2.gateway';
import {
  CircuitStateName,
  ListEventsQuery,
  OAuthAuthorizeUrlInput,
  OPERATION_FAMILIES,
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
import { CIRCUIT_STATE_VALUE, StripeMetrics } from './stripe-metrics';
import { verifyStripeWebhook } from './verify-stripe-webhook';

export interface StripeSdkGatewayOptions {
  /** Hard deadline per attempt (stripeConfig.timeoutMs). */
  timeoutMs?: number;
  /** `ca_...`, for the authorize URL and deauthorization. The emulator accepts any. */
  connectClientId?: string;
  retry?: {
    /** Retries after the first attempt. */
    maxRetries?: number;
    initialDelayMs?: number;
    maxDelayMs?: number;
    /** Longest `Retry-After` honoured; a longer ask waits this long. */
    maxRetryAfterMs?: number;
  };
  breaker?: {
    /** Consecutive infrastructure failures that open a family's circuit. */
    threshold?: number;
    /** How long an open circuit fails fast before letting one probe through. */
    halfOpenAfterMs?: number;
  };
  bulkhead?: {
    /** Stripe calls in flight at once, across every family. */
    limit?: number;
    /** Calls waiting for a slot; beyond it they fail fast with StripeUnavailable. */
    queue?: number;
  };
}

const DEFAULTS = {
  timeoutMs: 10_000,
  retry: { maxRetries: 3, initialDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 10_000 },
  breaker: { threshold: 5, halfOpenAfterMs: 10_000 },
  bulkhead: { limit: 50, queue: 50 },
};

const STATE_NAME: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/** Drops undefined values: the SDK would otherwise send them as empty parameters. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
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
  readonly #secretKey: string;
  readonly #apiBase: string | undefined;
  readonly #clientId: string | undefined;
  readonly #metrics = new StripeMetrics();
  readonly #bulkhead: BulkheadPolicy;
  readonly #retry: Record<RetryMode, RetryPolicy>;
  readonly #timeout: TimeoutPolicy;
  readonly #breakers: Record<OperationFamily, CircuitBreakerPolicy>;
  readonly money: StripeMoneyGateway;
  readonly v2: StripeV2Gateway;

  constructor(connection: StripeConnection, options: StripeSdkGatewayOptions = {}) {
    super();
    const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const retryOptions = { ...DEFAULTS.retry, ...options.retry };
    const breakerOptions = { ...DEFAULTS.breaker, ...options.breaker };
    const bulkheadOptions = { ...DEFAULTS.bulkhead, ...options.bulkhead };

    this.#secretKey = connection.secretKey;
    this.#apiBase = connection.apiBase;
    this.#clientId = options.connectClientId ?? (connection.emulated ? 'ca_emulator' : undefined);
    this.#stripe = new Stripe(connection.secretKey, {
      maxNetworkRetries: 0,
      // The SDK's timeout aborts the socket; the cockatiel timeout below is the hard deadline per attempt.
      timeout: timeoutMs,
      ...(connection.apiBase ? StripeSdkGateway.hostOptions(connection.apiBase) : {}),
    });

    this.#bulkhead = bulkhead(bulkheadOptions.limit, bulkheadOptions.queue);
    this.#timeout = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    const makeRetry = (mode: RetryMode): RetryPolicy =>
      retry(
        handleWhen((err) => isRetryableFailure(err, mode)),
        {
          maxAttempts: retryOptions.maxRetries,
          backoff: retryAfterAwareBackoff(
            new ExponentialBackoff({
              initialDelay: retryOptions.initialDelayMs,
              maxDelay: retryOptions.maxDelayMs,
            }),
            retryOptions.maxRetryAfterMs,
          ),
        },
      );
    this.#retry = { idempotent: makeRetry('idempotent'), unsafe: makeRetry('unsafe') };

    const breakers = {} as Record<OperationFamily, CircuitBreakerPolicy>;
    for (const family of OPERATION_FAMILIES) {
      const breaker = circuitBreaker(handleWhen(isInfrastructureFailure), {
        halfOpenAfter: breakerOptions.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(breakerOptions.threshold),
      });
      this.#metrics.circuit.set({ family }, CIRCUIT_STATE_VALUE.closed);
      breaker.onStateChange((state) =>
        this.#metrics.circuit.set({ family }, CIRCUIT_STATE_VALUE[STATE_NAME[state]]),
      );
      breakers[family] = breaker;
    }
    this.#breakers = breakers;
    this.money = new StripeSdkMoneyGateway(this.#stripe, (op, family, mode, attempt) =>
      this.run(op, family, mode, attempt),
    );
    this.v2 = new StripeSdkV2Gateway(
      this.#stripe,
      (op, family, mode, attempt) => this.run(op, family, mode, attempt),
      (o) => this.writeOptions(o),
    );
  }

  /** With `host` set, the SDK sends every API base (OAuth's included) follows host, port and protocol. */
  private static hostOptions(apiBase: string): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
    const url = new URL(apiBase);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
      protocol,
    };
  }

  /**
   * Runs one logical call. `attempt` is invoked once per attempt and must reuse the same request options
   * (hence the same idempotency key) every time.
   */
  private async run<T>(
    operation: string,
    family: OperationFamily,
    mode: RetryMode,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const stopTimer = this.#metrics.duration.startTimer({ operation });
    let attempts = 0;
    try {
      const result = await this.#bulkhead.execute(() =>
        this.#retry[mode].execute(() => {
          if (attempts++ > 0) this.#metrics.attempts.inc({ operation });
          return this.#breakers[family].execute(() => this.#timeout.execute(() => attempt()));
        }),
      );
      this.#metrics.requests.inc({ operation, outcome: 'success' });
      return result;
    } catch (err) {
      this.#metrics.requests.inc({ operation, outcome: outcomeOf(err) });
      throw mapStripeError(err, this.#secretKey) ?? err;
    } finally {
      stopTimer();
    }
  }

  /** Write options, fixed once per logical call so every retry carries the same idempotency key. */
  private writeOptions(options: StripeCallOptions = {}): Stripe.RequestOptions {
    return compact({
      idempotencyKey: options.idempotencyKey ?? randomUUID(),
      stripeAccount: options.stripeAccount,
    });
  }

  private readOptions(options: StripeReadOptions = {}): Stripe.RequestOptions {
    return compact({ stripeAccount: options.stripeAccount });
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
    const ro = this.writeOptions(options);
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
    const ro = this.writeOptions(options);
    return this.run('accounts.update', 'accounts', 'idempotent', () =>
      this.#stripe.accounts.update(id, params, ro),
    );
  }

  rejectAccount(id: string, reason: string, options?: StripeCallOptions): Promise<StripeAccount> {
    const ro = this.writeOptions(options);
    return this.run('accounts.reject', 'accounts', 'idempotent', () =>
      this.#stripe.accounts.reject(id, { reason }, ro),
    );
  }

  createAccountLink(
    params: StripeAccountLinkCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccountLink> {
    const ro = this.writeOptions(options);
    return this.run('account_links.create', 'accounts', 'idempotent', () =>
      this.#stripe.accountLinks.create(params, ro),
    );
  }

  // --- Payments ---

  createPaymentIntent(
    params: StripePaymentIntentCreateParams,
    options: StripeCallOptions,
  ): Promise<StripePaymentIntent> {
    const ro = this.writeOptions(options);
    return this.run('payment_intents.create', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.create(params, ro),
    );
  }

  retrievePaymentIntent(id: string, options?: StripeReadOptions): Promise<StripePaymentIntent> {
    const ro = this.readOptions(options);
    return this.run('payment_intents.retrieve', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.retrieve(id, {}, ro),
    );
  }

  listPaymentIntents(
    params: StripePaymentIntentListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePaymentIntent>> {
    const ro = this.readOptions(options);
    return this.run('payment_intents.list', 'payments', 'idempotent', () =>
      this.#stripe.paymentIntents.list(params, ro),
    );
  }

  // --- Refunds ---

  createRefund(params: StripeRefundCreateParams, options: StripeCallOptions): Promise<StripeRefund> {
    const ro = this.writeOptions(options);
    return this.run('refunds.create', 'refunds', 'idempotent', () => this.#stripe.refunds.create(params, ro));
  }

  // --- Billing ---

  createCustomer(params: StripeCustomerCreateParams, options?: StripeCallOptions): Promise<StripeCustomer> {
    const ro = this.writeOptions(options);
    return this.run('customers.create', 'billing', 'idempotent', () =>
      this.#stripe.customers.create(params, ro),
    );
  }

  createPrice(params: StripePriceCreateParams, options?: StripeCallOptions): Promise<StripePrice> {
    const ro = this.writeOptions(options);
    return this.run('prices.create', 'billing', 'idempotent', () => this.#stripe.prices.create(params, ro));
  }

  createSubscription(
    params: StripeSubscriptionCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeSubscription> {
    const ro = this.writeOptions(options);
    return this.run('subscriptions.create', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.create(params, ro),
    );
  }

  cancelSubscription(
    id: string,
    params: StripeSubscriptionCancelParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeSubscription> {
    const ro = this.readOptions(options);
    return this.run('subscriptions.cancel', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.cancel(id, params, ro),
    );
  }

  listSubscriptions(
    params: StripeSubscriptionListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeSubscription>> {
    const ro = this.readOptions(options);
    return this.run('subscriptions.list', 'billing', 'idempotent', () =>
      this.#stripe.subscriptions.list(params, ro),
    );
  }

  listInvoices(
    params: StripeInvoiceListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeInvoice>> {
    const ro = this.readOptions(options);
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
    const ro = this.readOptions({ stripeAccount: query.stripeAccount });
    return this.run('events.list', 'events', 'idempotent', () => this.#stripe.events.list(params, ro));
  }

  listApplicationFees(
    params: StripeApplicationFeeListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeApplicationFee>> {
    const ro = this.readOptions(options);
    return this.run('application_fees.list', 'reporting', 'idempotent', () =>
      this.#stripe.applicationFees.list(params, ro),
    );
  }

  listTransfers(
    params: StripeTransferListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransfer>> {
    const ro = this.readOptions(options);
    return this.run('transfers.list', 'reporting', 'idempotent', () =>
      this.#stripe.transfers.list(params, ro),
    );
  }

  listBalanceTransactions(
    params: StripeBalanceTransactionListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeBalanceTransaction>> {
    const ro = this.readOptions(options);
    return this.run('balance_transactions.list', 'reporting', 'idempotent', () =>
      this.#stripe.balanceTransactions.list(params, ro),
    );
  }

  retrieveBalanceTransaction(id: string, options?: StripeReadOptions): Promise<StripeBalanceTransaction> {
    const ro = this.readOptions(options);
    return this.run('balance_transactions.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.balanceTransactions.retrieve(id, {}, ro),
    );
  }

  listCharges(
    params: StripeChargeListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeCharge>> {
    const ro = this.readOptions(options);
    return this.run('charges.list', 'reporting', 'idempotent', () => this.#stripe.charges.list(params, ro));
  }

  retrieveRefund(id: string, options?: StripeReadOptions): Promise<StripeRefund> {
    const ro = this.readOptions(options);
    return this.run('refunds.retrieve', 'refunds', 'idempotent', () =>
      this.#stripe.refunds.retrieve(id, {}, ro),
    );
  }

  retrieveCharge(id: string, options?: StripeReadOptions): Promise<StripeCharge> {
    const ro = this.readOptions(options);
    return this.run('charges.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.charges.retrieve(id, {}, ro),
    );
  }

  listRefunds(
    params: StripeRefundListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeRefund>> {
    const ro = this.readOptions(options);
    return this.run('refunds.list', 'reporting', 'idempotent', () => this.#stripe.refunds.list(params, ro));
  }

  // --- Transfers ---

  createTransfer(params: StripeTransferCreateParams, options: StripeCallOptions): Promise<StripeTransfer> {
    const ro = this.writeOptions(options);
    return this.run('transfers.create', 'payments', 'idempotent', () =>
      this.#stripe.transfers.create(params, ro),
    );
  }

  retrieveTransfer(id: string, options?: StripeReadOptions): Promise<StripeTransfer> {
    const ro = this.readOptions(options);
    return this.run('transfers.retrieve', 'payments', 'idempotent', () =>
      this.#stripe.transfers.retrieve(id, {}, ro),
    );
  }

  updateTransfer(
    id: string,
    params: StripeTransferUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeTransfer> {
    const ro = this.writeOptions(options);
    return this.run('transfers.update', 'payments', 'idempotent', () =>
      this.#stripe.transfers.update(id, params, ro),
    );
  }

  createTransferReversal(
    transferId: string,
    params: StripeTransferReversalCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeTransferReversal> {
    const ro = this.writeOptions(options);
    return this.run('transfers.create_reversal', 'refunds', 'idempotent', () =>
      this.#stripe.transfers.createReversal(transferId, params, ro),
    );
  }

  listTransferReversals(
    transferId: string,
    params: StripePaginationParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeTransferReversal>> {
    const ro = this.readOptions(options);
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
    const ro = this.writeOptions(options);
    return this.run('application_fees.create_refund', 'refunds', 'idempotent', () =>
      this.#stripe.applicationFees.createRefund(feeId, params, ro),
    );
  }

  listApplicationFeeRefunds(
    feeId: string,
    params: StripePaginationParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeFeeRefund>> {
    const ro = this.readOptions(options);
    return this.run('application_fees.list_refunds', 'reporting', 'idempotent', () =>
      this.#stripe.applicationFees.listRefunds(feeId, params, ro),
    );
  }

  // --- Payouts ---

  listPayouts(
    params: StripePayoutListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripePayout>> {
    const ro = this.readOptions(options);
    return this.run('payouts.list', 'reporting', 'idempotent', () => this.#stripe.payouts.list(params, ro));
  }

  retrievePayout(id: string, options?: StripeReadOptions): Promise<StripePayout> {
    const ro = this.readOptions(options);
    return this.run('payouts.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.payouts.retrieve(id, {}, ro),
    );
  }

  // --- Webhooks ---

  createWebhookEndpoint(
    params: StripeWebhookEndpointCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeWebhookEndpoint> {
    const ro = this.writeOptions(options);
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
    const out = {} as Record<OperationFamily, CircuitStateName>;
    for (const family of OPERATION_FAMILIES) out[family] = STATE_NAME[this.#breakers[family].state];
    return out;
  }
}

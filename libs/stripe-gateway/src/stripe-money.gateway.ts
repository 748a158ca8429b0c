import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { ServiceException } from '@app/common';
import type { RetryMode } from './retry-decision';
import type {
  OperationFamily,
  StripeCallOptions,
  StripeList,
  StripePayout,
  StripeReadOptions,
} from './stripe-gateway.types';

export type StripeBalance = Stripe.Balance;
export type StripeDispute = Stripe.Dispute;
export type StripeDisputeEvidenceParams = Stripe.DisputeUpdateParams.Evidence;
export type StripeDisputeListParams = Stripe.DisputeListParams;
export type StripePayoutCreateParams = Stripe.PayoutCreateParams;

/** Stripe's error `code` carried by a gateway ServiceException (`details.stripe.code`), if any. */
export function stripeErrorCode(err: unknown): string | undefined {
  if (!(err instanceof ServiceException)) return undefined;
  return (err.details?.stripe as { code?: string } | undefined)?.code;
}

/**
 * Money out and disputes: balances, payouts a connected account asks for, and dispute evidence. Reached as
 * `gateway.money`; every call carries the gateway's resilience (bulkhead, retry, breaker, timeout).
 */
export abstract class StripeMoneyGateway {
  /** https://docs.stripe.com/api/balance/balance_retrieve (pass the account's `stripeAccount`). */
  abstract retrieveBalance(options?: StripeReadOptions): Promise<StripeBalance>;
  /** https://docs.stripe.com/api/payouts/create */
  abstract createPayout(params: StripePayoutCreateParams, options: StripeCallOptions): Promise<StripePayout>;
  /** https://docs.stripe.com/api/payouts/cancel (pending standard payouts only). */
  abstract cancelPayout(id: string, options: StripeCallOptions): Promise<StripePayout>;
  abstract retrieveDispute(id: string, options?: StripeReadOptions): Promise<StripeDispute>;
  abstract listDisputes(
    params?: StripeDisputeListParams,
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeDispute>>;
  /** https://docs.stripe.com/api/disputes/update: `submit` sends the evidence to the bank, once. */
  abstract updateDispute(
    id: string,
    params: { evidence?: StripeDisputeEvidenceParams; submit?: boolean },
    options: StripeCallOptions,
  ): Promise<StripeDispute>;
  /** https://docs.stripe.com/api/disputes/close: accepting the dispute concedes it. */
  abstract closeDispute(id: string, options: StripeCallOptions): Promise<StripeDispute>;
}

export type GatewayRunner = <T>(
  operation: string,
  family: OperationFamily,
  mode: RetryMode,
  attempt: () => Promise<T>,
) => Promise<T>;

function writeOptions(options: StripeCallOptions): Stripe.RequestOptions {
  const out: Stripe.RequestOptions = { idempotencyKey: options.idempotencyKey ?? randomUUID() };
  if (options.stripeAccount) out.stripeAccount = options.stripeAccount;
  return out;
}

function readOptions(options: StripeReadOptions = {}): Stripe.RequestOptions {
  return options.stripeAccount ? { stripeAccount: options.stripeAccount } : {};
}

/** StripeMoneyGateway on the SDK client of StripeSdkGateway, through its `run`. */
export class StripeSdkMoneyGateway extends StripeMoneyGateway {
  // Private fields stay out of util.inspect / JSON output, so logging the gateway never prints the key.
  readonly #stripe: Stripe;
  readonly #run: GatewayRunner;

  constructor(stripe: Stripe, run: GatewayRunner) {
    super();
    this.#stripe = stripe;
    this.#run = run;
  }

  retrieveBalance(options?: StripeReadOptions): Promise<StripeBalance> {
    const ro = readOptions(options);
    return this.#run('balance.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.balance.retrieve({}, ro),
    );
  }

  createPayout(params: StripePayoutCreateParams, options: StripeCallOptions): Promise<StripePayout> {
    const ro = writeOptions(options);
    return this.#run('payouts.create', 'payments', 'idempotent', () =>
      this.#stripe.payouts.create(params, ro),
    );
  }

  cancelPayout(id: string, options: StripeCallOptions): Promise<StripePayout> {
    const ro = writeOptions(options);
    return this.#run('payouts.cancel', 'payments', 'idempotent', () =>
      this.#stripe.payouts.cancel(id, {}, ro),
    );
  }

  retrieveDispute(id: string, options?: StripeReadOptions): Promise<StripeDispute> {
    const ro = readOptions(options);
    return this.#run('disputes.retrieve', 'reporting', 'idempotent', () =>
      this.#stripe.disputes.retrieve(id, {}, ro),
    );
  }

  listDisputes(
    params: StripeDisputeListParams = {},
    options?: StripeReadOptions,
  ): Promise<StripeList<StripeDispute>> {
    const ro = readOptions(options);
    return this.#run('disputes.list', 'reporting', 'idempotent', () =>
      this.#stripe.disputes.list(params, ro),
    );
  }

  updateDispute(
    id: string,
    params: { evidence?: StripeDisputeEvidenceParams; submit?: boolean },
    options: StripeCallOptions,
  ): Promise<StripeDispute> {
    const ro = writeOptions(options);
    return this.#run('disputes.update', 'refunds', 'idempotent', () =>
      this.#stripe.disputes.update(id, params, ro),
    );
  }

  closeDispute(id: string, options: StripeCallOptions): Promise<StripeDispute> {
    const ro = writeOptions(options);
    return this.#run('disputes.close', 'refunds', 'idempotent', () =>
      this.#stripe.disputes.close(id, {}, ro),
    );
  }
}

import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import type { RetryMode } from './retry-decision';
import type { OperationFamily, StripeCallOptions } from './stripe-gateway.types';
import type {
  ListV2EventsQuery,
  StripeAccountSession,
  StripeAccountSessionCreateParams,
  StripeV2Account,
  StripeV2AccountCreateParams,
  StripeV2AccountLink,
  StripeV2AccountLinkCreateParams,
  StripeV2AccountUpdateParams,
  StripeV2Configuration,
  StripeV2Event,
  StripeV2EventDestination,
  StripeV2EventDestinationCreateParams,
  StripeV2EventDestinationUpdateParams,
  StripeV2EventNotification,
} from './stripe-v2.types';

/** Every section of a v2 account a read asks for: Stripe omits them unless included. */
const ACCOUNT_INCLUDE: StripeV2AccountCreateParams['include'] = [
  'configuration.customer',
  'configuration.merchant',
  'configuration.recipient',
  'defaults',
  'identity',
  'requirements',
];

/**
 * Accounts v2, v2 account links, Account Sessions, v2 events and event destinations
 * (https://docs.stripe.com/api-v2-overview). Same contract as StripeGateway: Stripe's object, or a ServiceException.
 */
export abstract class StripeV2Gateway {
  abstract createAccount(
    params: StripeV2AccountCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2Account>;
  /** With every configuration, defaults, identity and requirements included. */
  abstract retrieveAccount(id: string): Promise<StripeV2Account>;
  abstract updateAccount(
    id: string,
    params: StripeV2AccountUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2Account>;
  /** Stripe requires every applied configuration to be named. */
  abstract closeAccount(
    id: string,
    configurations: StripeV2Configuration[],
    options?: StripeCallOptions,
  ): Promise<StripeV2Account>;
  abstract createAccountLink(
    params: StripeV2AccountLinkCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2AccountLink>;
  /** `POST /v1/account_sessions`: the answer's client_secret must never be stored or logged. */
  abstract createAccountSession(
    params: StripeAccountSessionCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccountSession>;
  /** `GET /v2/core/events/{id}` with the notification's context (sent as `Stripe-Context`). */
  abstract retrieveEvent(id: string, context?: string | null): Promise<StripeV2Event>;
  /** The object a thin event is about (`related_object.url`, v1 or v2), read with the event's context. */
  abstract fetchRelatedObject(url: string, context?: string | null): Promise<Record<string, unknown>>;
  /** Every page of `GET /v2/core/events` for the query, oldest Stripe keeps first up to `max`. */
  abstract listEvents(query: ListV2EventsQuery, max?: number): Promise<StripeV2Event[]>;
  abstract createEventDestination(
    params: StripeV2EventDestinationCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2EventDestination>;
  abstract updateEventDestination(
    id: string,
    params: StripeV2EventDestinationUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2EventDestination>;
  abstract listEventDestinations(): Promise<StripeV2EventDestination[]>;
  /**
   * Verifies a thin notification with the SDK's `parseEventNotification` against each secret (rotation). Throws
   * WebhookInvalid with `details.reason` like the v1 verifier.
   */
  abstract parseEventNotification(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    secrets: string[],
    toleranceSeconds?: number,
  ): StripeV2EventNotification;
}

export type RunStripeCall = <T>(
  operation: string,
  family: OperationFamily,
  mode: RetryMode,
  attempt: () => Promise<T>,
) => Promise<T>;

function invalid(reason: string, message: string): ServiceException {
  return new ServiceException(ErrorCode.WebhookInvalid, message, { reason });
}

/** The SDK implementation; `run` is the v1 gateway's resilience pipeline (bulkhead, retries, breaker, timeout). */
export class StripeSdkV2Gateway extends StripeV2Gateway {
  // Private fields stay out of util.inspect / JSON output, so logging the gateway never prints the key.
  readonly #stripe: Stripe;
  readonly #run: RunStripeCall;
  readonly #writeOptions: (options?: StripeCallOptions) => Stripe.RequestOptions;

  constructor(
    stripe: Stripe,
    run: RunStripeCall,
    writeOptions: (options?: StripeCallOptions) => Stripe.RequestOptions,
  ) {
    super();
    this.#stripe = stripe;
    this.#run = run;
    this.#writeOptions = writeOptions;
  }

  createAccount(params: StripeV2AccountCreateParams, options?: StripeCallOptions): Promise<StripeV2Account> {
    const ro = this.#writeOptions(options);
    const body = { ...params, include: params.include ?? ACCOUNT_INCLUDE };
    return this.#run('v2.accounts.create', 'accounts', 'idempotent', () =>
      this.#stripe.v2.core.accounts.create(body, ro),
    );
  }

  retrieveAccount(id: string): Promise<StripeV2Account> {
    return this.#run('v2.accounts.retrieve', 'accounts', 'idempotent', () =>
      this.#stripe.v2.core.accounts.retrieve(id, { include: ACCOUNT_INCLUDE }),
    );
  }

  updateAccount(
    id: string,
    params: StripeV2AccountUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2Account> {
    const ro = this.#writeOptions(options);
    const body = { ...params, include: params.include ?? ACCOUNT_INCLUDE };
    return this.#run('v2.accounts.update', 'accounts', 'idempotent', () =>
      this.#stripe.v2.core.accounts.update(id, body, ro),
    );
  }

  closeAccount(
    id: string,
    configurations: StripeV2Configuration[],
    options?: StripeCallOptions,
  ): Promise<StripeV2Account> {
    const ro = this.#writeOptions(options);
    return this.#run('v2.accounts.close', 'accounts', 'idempotent', () =>
      this.#stripe.v2.core.accounts.close(id, { applied_configurations: configurations }, ro),
    );
  }

  createAccountLink(
    params: StripeV2AccountLinkCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2AccountLink> {
    const ro = this.#writeOptions(options);
    return this.#run('v2.account_links.create', 'accounts', 'idempotent', () =>
      this.#stripe.v2.core.accountLinks.create(params, ro),
    );
  }

  createAccountSession(
    params: StripeAccountSessionCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeAccountSession> {
    const ro = this.#writeOptions(options);
    return this.#run('account_sessions.create', 'accounts', 'idempotent', () =>
      this.#stripe.accountSessions.create(params, ro),
    );
  }

  retrieveEvent(id: string, context?: string | null): Promise<StripeV2Event> {
    const ro: Stripe.RequestOptions = context ? { stripeContext: context } : {};
    return this.#run('v2.events.retrieve', 'events', 'idempotent', () =>
      this.#stripe.v2.core.events.retrieve(id, {}, ro),
    );
  }

  fetchRelatedObject(url: string, context?: string | null): Promise<Record<string, unknown>> {
    const ro = context ? { stripeContext: context } : {};
    return this.#run('v2.related_object.retrieve', 'events', 'idempotent', async () => {
      const answer = (await this.#stripe.rawRequest('GET', url, undefined, ro)) as Record<string, unknown>;
      return answer;
    });
  }

  listEvents(query: ListV2EventsQuery, max = 1000): Promise<StripeV2Event[]> {
    const created: Stripe.RangeQueryParam = {};
    if (query.createdGte) created.gte = query.createdGte;
    if (query.createdLte) created.lte = query.createdLte;
    const params: Stripe.V2.Core.EventListParams = { limit: query.limit ?? 100 };
    if (query.createdGte || query.createdLte) params.created = created;
    if (query.types?.length) params.types = query.types;
    if (query.objectId) params.object_id = query.objectId;
    return this.#run('v2.events.list', 'events', 'idempotent', () =>
      this.#stripe.v2.core.events
        .list(params, query.context ? { stripeContext: query.context } : {})
        .autoPagingToArray({ limit: max }),
    );
  }

  createEventDestination(
    params: StripeV2EventDestinationCreateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2EventDestination> {
    const ro = this.#writeOptions(options);
    return this.#run('v2.event_destinations.create', 'webhooks', 'idempotent', () =>
      this.#stripe.v2.core.eventDestinations.create(params, ro),
    );
  }

  updateEventDestination(
    id: string,
    params: StripeV2EventDestinationUpdateParams,
    options?: StripeCallOptions,
  ): Promise<StripeV2EventDestination> {
    const ro = this.#writeOptions(options);
    return this.#run('v2.event_destinations.update', 'webhooks', 'idempotent', () =>
      this.#stripe.v2.core.eventDestinations.update(id, params, ro),
    );
  }

  listEventDestinations(): Promise<StripeV2EventDestination[]> {
    return this.#run('v2.event_destinations.list', 'webhooks', 'idempotent', () =>
      this.#stripe.v2.core.eventDestinations.list({ limit: 100 }).autoPagingToArray({ limit: 1000 }),
    );
  }

  parseEventNotification(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    secrets: string[],
    toleranceSeconds = 300,
  ): StripeV2EventNotification {
    if (!signatureHeader || signatureHeader.trim() === '') {
      throw invalid('missing_signature', 'Missing Stripe-Signature header');
    }
    const usable = secrets.filter((s) => s.trim() !== '');
    if (!usable.length) throw invalid('no_secret_configured', 'No event destination secret is stored');
    let best = 'no_matching_signature';
    for (const secret of usable) {
      try {
        return this.#stripe.parseEventNotification(rawBody, signatureHeader, secret, toleranceSeconds);
      } catch (err) {
        if (err instanceof SyntaxError) throw invalid('malformed', 'The webhook body is not JSON');
        if (!(err instanceof Stripe.errors.StripeError)) throw err;
        const message = err.message ?? '';
        if (/timestamp outside the tolerance/i.test(message)) best = 'timestamp_out_of_tolerance';
        else if (!/no signatures found matching/i.test(message)) {
          throw invalid('malformed', 'Malformed Stripe-Signature header');
        }
      }
    }
    throw best === 'timestamp_out_of_tolerance'
      ? invalid(best, 'Stripe-Signature timestamp is outside the tolerance window')
      : invalid(best, 'No Stripe-Signature matches an event destination secret');
  }
}

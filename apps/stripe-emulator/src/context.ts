import { FaultRegistry } from './control/faults';
import { newId } from './ids';
import { Params } from './params';
import { BoundedMap, RingBuffer, Store, StripeObject } from './store';
import { RetryPolicy, WebhookDelivery } from './webhooks/delivery';
import { buildPlatformAccount } from './resources/account-objects';
import type { V2AccountData } from './resources/v2-account-model';

export interface ResolvedOptions {
  webhookRetry: RetryPolicy;
  logger: (msg: string) => void;
}

export interface OAuthGrant {
  account: string;
  used: boolean;
  tokens: string[];
  scope: string;
}

export interface OAuthToken {
  account: string;
  kind: 'access' | 'refresh';
  revoked: boolean;
  scope: string;
}

export interface AccountLinkGrant {
  account: string;
  refreshUrl: string;
  returnUrl: string;
  expiresAt: number;
  used: boolean;
  /** A v2 link's use case (`account_onboarding` | `account_update`): completing it emits v2.core.account_link.returned. */
  v2UseCase?: string;
}

export interface IdempotencyEntry {
  fingerprint: string;
  done: boolean;
  status: number;
  body: unknown;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  idempotency_key: string | null;
  stripe_account: string | null;
  at: number;
}

/** Behaviour switches (`POST /_emulator/settings`); reset restores these defaults. */
export interface EmulatorSettings {
  /** Refuse direct charges without an active `card_payments` and transfers without an active `transfers`. */
  enforce_capabilities: boolean;
  /** card_payments and transfers fall together: when an account has both and one turns inactive, so does the other. */
  linked_capabilities: boolean;
  /** Seconds from a balance transaction's creation to its `available_on` (0: available at once). */
  available_delay_seconds: number;
  /** Seconds an Account Session's client_secret lives before it expires. */
  account_session_ttl_seconds: number;
}

export const DEFAULT_SETTINGS: EmulatorSettings = {
  enforce_capabilities: true,
  linked_capabilities: true,
  available_delay_seconds: 0,
  account_session_ttl_seconds: 1800,
};

export interface AccountSessionGrant {
  account: string;
  components: Record<string, unknown>;
  expiresAt: number;
  used: boolean;
}

/** What a past-due restriction took away, given back when the requirements are cleared. */
export interface Restriction {
  capabilities: Record<string, string>;
  charges_enabled: unknown;
  payouts_enabled: unknown;
}

/** Run on every new state (reset included) by the modules that hook into it, e.g. the v2 side's event listener. */
export const STATE_SETUP: Array<(state: EmulatorState) => void> = [];

/** Everything `POST /_emulator/reset` drops: reset replaces the whole object. */
export class EmulatorState {
  readonly settings: EmulatorSettings = { ...DEFAULT_SETTINGS };
  /** Which automatic payout carried a balance transaction (kept off the object: it is not a Stripe field). */
  readonly paidOutBy = new BoundedMap<string, string>(50_000);
  readonly store = new Store();
  readonly platform: StripeObject = buildPlatformAccount();
  readonly platformId = this.platform.id;
  readonly oauthCodes = new BoundedMap<string, OAuthGrant>(10_000);
  readonly oauthTokens = new BoundedMap<string, OAuthToken>(20_000);
  nextOAuth: { action: 'approve' | 'deny'; account?: Record<string, unknown> } | null = null;
  readonly accountLinks = new BoundedMap<string, AccountLinkGrant>(10_000);
  /** Accounts that deauthorized the platform: invisible to it from then on. */
  readonly deauthorized = new BoundedMap<string, true>(20_000);
  readonly idempotency = new BoundedMap<string, IdempotencyEntry>(50_000);
  readonly faults = new FaultRegistry();
  readonly requests = new RingBuffer<RequestLogEntry>(1000);
  readonly webhooks: WebhookDelivery;
  readonly clientId = `ca_${newId('x').slice(2)}`;
  /** What only v2 knows of the accounts created through /v2/core/accounts (the v1 object holds the rest). */
  readonly v2Accounts = new BoundedMap<string, V2AccountData>(20_000);
  readonly accountSessions = new BoundedMap<string, AccountSessionGrant>(10_000);
  readonly restrictions = new BoundedMap<string, Restriction>(20_000);

  constructor(readonly options: ResolvedOptions) {
    this.webhooks = new WebhookDelivery(this.store, this.platformId, options.webhookRetry, options.logger);
    for (const setup of STATE_SETUP) setup(this);
  }

  /** A connected account of this platform that it may still act on. */
  connectedAccount(id: string): StripeObject | undefined {
    if (this.deauthorized.has(id)) return undefined;
    return this.store.find('account', id, this.platformId);
  }

  close(): void {
    this.webhooks.close();
  }
}

export interface RequestContext {
  emu: EmulatorState;
  method: string;
  path: string;
  /** Form body for POST, query for GET and DELETE, parsed by qs. */
  params: Params;
  pathParams: Record<string, string>;
  /** The account the request acts as: the Stripe-Account header, an OAuth token's account, or the platform. */
  owner: string;
  isPlatform: boolean;
  stripeAccount: string | null;
  requestId: string;
  idempotencyKey: string | null;
  apiVersion: string | null;
  baseUrl: string;
}

export interface HandlerResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** 'none' for browser-facing redirects (OAuth authorize). */
  auth?: 'secret' | 'none';
  handler(ctx: RequestContext): HandlerResult | Promise<HandlerResult>;
}

/** Shorthand for handlers: emit an event carrying this request's id and idempotency key. */
export function emitEvent(
  ctx: RequestContext,
  type: string,
  object: StripeObject,
  owner: string = ctx.owner,
  previousAttributes?: Record<string, unknown>,
): void {
  ctx.emu.webhooks.emit(
    type,
    object,
    owner,
    { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey, apiVersion: ctx.apiVersion },
    previousAttributes,
  );
}

/** `POST /_emulator/reset` swaps the state object; everything reads it through this holder. */
export interface StateHolder {
  state: EmulatorState;
  readonly options: ResolvedOptions;
  reset(): void;
}

import { newId, nowSeconds } from '../ids';
import { BoundedMap, RingBuffer, Store, StripeObject } from '../store';
import { signPayload } from './signature';

export interface RetryPolicy {
  initialDelayMs: number;
  maxAttempts: number;
}

export interface EventRequestInfo {
  requestId: string | null;
  idempotencyKey: string | null;
  apiVersion?: string | null;
}

export interface DeliveryRecord {
  event_id: string;
  event_type: string;
  account: string | null;
  endpoint_id: string;
  url: string;
  attempt: number;
  status: number | null;
  ok: boolean;
  error: string | null;
  at: number;
}

interface Job {
  eventId: string;
  endpointId: string;
  /** A thin notification (`v2.core.event`) to an event destination rather than a v1 event to an endpoint. */
  thin?: boolean;
}

/** Called after each v1 event is stored (the v2 side derives its thin events from them). */
export type EventListener = (event: StripeObject, owner: string, previous?: Record<string, unknown>) => void;

/** The API version events are rendered with when neither the request nor the endpoint says otherwise. */
export const DEFAULT_EVENT_API_VERSION = '2023-08-16';

/**
 * Creates events and delivers them like Stripe: to every enabled endpoint whose `enabled_events` match,
 * Connect endpoints for connected accounts' events (with `account` set), account endpoints for the
 * platform's own; signed; retried with exponential backoff on non-2xx or network errors. An event's
 * `delivery_success` is true once every matching endpoint answered 2xx (Stripe: pending_webhooks = 0).
 */
export class WebhookDelivery {
  readonly log = new RingBuffer<DeliveryRecord>(1000);
  private readonly pendingEndpoints = new BoundedMap<string, Set<string>>(20_000);
  private readonly secrets = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private paused = false;
  private queue: Job[] = [];
  private closed = false;
  readonly listeners: EventListener[] = [];

  constructor(
    private readonly store: Store,
    private readonly platformId: string,
    private readonly retry: RetryPolicy,
    private readonly logger: (msg: string) => void,
  ) {}

  emit(
    type: string,
    object: StripeObject,
    owner: string,
    request: EventRequestInfo | null,
    previousAttributes?: Record<string, unknown>,
  ): StripeObject {
    const connected = owner !== this.platformId;
    const endpoints = this.matchingEndpoints(type, connected);
    const data: Record<string, unknown> = { object: structuredClone(object) };
    if (previousAttributes && Object.keys(previousAttributes).length > 0) {
      data.previous_attributes = structuredClone(previousAttributes);
    }
    const event: StripeObject = {
      id: newId('evt'),
      object: 'event',
      ...(connected ? { account: owner } : {}),
      api_version: request?.apiVersion ?? DEFAULT_EVENT_API_VERSION,
      created: nowSeconds(),
      data,
      livemode: false,
      pending_webhooks: endpoints.length,
      request: { id: request?.requestId ?? null, idempotency_key: request?.idempotencyKey ?? null },
      type,
    };
    this.store.put('event', owner, event);
    if (endpoints.length > 0) {
      this.pendingEndpoints.set(event.id, new Set(endpoints.map((e) => e.id)));
      for (const endpoint of endpoints) this.enqueue({ eventId: event.id, endpointId: endpoint.id });
    }
    for (const listener of this.listeners) listener(event, owner, previousAttributes);
    return event;
  }

  /** Stores a v2 event (owner = its context, else the platform) and queues it to the given destinations. */
  emitThin(event: StripeObject, destinations: StripeObject[]): void {
    this.store.put('v2_event', typeof event.context === 'string' ? event.context : this.platformId, event);
    for (const d of destinations) this.enqueue({ eventId: event.id, endpointId: d.id, thin: true });
  }

  /** Stripe: "events which are still pending or have failed all delivery attempts" are delivery_success=false. */
  deliverySucceeded(eventId: string): boolean {
    const pending = this.pendingEndpoints.get(eventId);
    return !pending || pending.size === 0;
  }

  /** Secrets live outside the endpoint object: Stripe shows `secret` only in the create response. */
  setSecret(endpointId: string, secret: string): void {
    this.secrets.set(endpointId, secret);
  }

  forgetEndpoint(endpointId: string): void {
    this.secrets.delete(endpointId);
  }

  pause(): void {
    this.paused = true;
  }

  /**
   * Sends what was queued while paused, one after the other in the given order, then resumes live delivery.
   * `discard` drops the queued deliveries instead (lost webhooks: the events stay, never delivered).
   */
  async resume(order: 'fifo' | 'reverse' | 'discard' = 'fifo'): Promise<number> {
    this.paused = false;
    if (order === 'discard') {
      const dropped = this.queue.length;
      this.queue = [];
      return dropped;
    }
    const jobs = order === 'reverse' ? [...this.queue].reverse() : [...this.queue];
    this.queue = [];
    for (const job of jobs) await this.attempt(job, 1);
    return jobs.length;
  }

  queued(): number {
    return this.queue.length;
  }

  /** Sends an event again to its matching endpoints, `times` times, sequentially or all at once. */
  async redeliver(
    eventId: string,
    times: number,
    concurrent: boolean,
    thinDestinations?: (event: StripeObject) => StripeObject[],
  ): Promise<number> {
    const thinEntry = thinDestinations ? this.store.entry('v2_event', eventId) : undefined;
    const entry = thinEntry ?? this.store.entry('event', eventId);
    if (!entry) return -1;
    const event = entry.obj;
    const endpoints = thinEntry
      ? (thinDestinations as (event: StripeObject) => StripeObject[])(event)
      : this.matchingEndpoints(String(event.type), event.account !== undefined);
    const jobs: Job[] = [];
    for (let i = 0; i < times; i++)
      for (const e of endpoints) jobs.push({ eventId, endpointId: e.id, thin: Boolean(thinEntry) });
    if (concurrent) await Promise.all(jobs.map((job) => this.send(job, 1)));
    else for (const job of jobs) await this.send(job, 1);
    return jobs.length;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inFlight) c.abort();
    this.queue = [];
  }

  private matchingEndpoints(type: string, connected: boolean): StripeObject[] {
    return this.store.list('webhook_endpoint', this.platformId, (e) => {
      const events = (e.enabled_events ?? []) as string[];
      return (
        e.status === 'enabled' &&
        Boolean(e.connect) === connected &&
        (events.includes('*') || events.includes(type))
      );
    });
  }

  private enqueue(job: Job): void {
    if (this.paused) {
      this.queue.push(job);
      if (this.queue.length > 10_000) this.queue.shift();
      return;
    }
    // Never on the request's critical path: Stripe answers the API call before it delivers.
    setImmediate(() => void this.attempt(job, 1));
  }

  private async attempt(job: Job, attempt: number): Promise<void> {
    if (this.closed) return;
    const ok = await this.send(job, attempt);
    if (ok || this.closed) return;
    if (attempt >= this.retry.maxAttempts) return;
    const delay = this.retry.initialDelayMs * 2 ** (attempt - 1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(job, attempt + 1);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private async send(job: Job, attempt: number): Promise<boolean> {
    const eventEntry = this.store.entry(job.thin ? 'v2_event' : 'event', job.eventId);
    const endpointEntry = this.store.entry(
      job.thin ? 'event_destination' : 'webhook_endpoint',
      job.endpointId,
    );
    const secret = this.secrets.get(job.endpointId);
    if (!eventEntry || !endpointEntry || !secret || this.closed) return true;
    const event = eventEntry.obj;
    const endpoint = endpointEntry.obj;
    const payload = JSON.stringify(job.thin ? thinNotification(event) : event, null, 2);
    const url = job.thin ? String((endpoint.webhook_endpoint as { url?: string }).url) : String(endpoint.url);
    const record: DeliveryRecord = {
      event_id: event.id,
      event_type: String(event.type),
      account: ((job.thin ? event.context : event.account) as string | undefined) ?? null,
      endpoint_id: endpoint.id,
      url,
      attempt,
      status: null,
      ok: false,
      error: null,
      at: Date.now(),
    };
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), 10_000);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signPayload(payload, secret),
        },
        body: payload,
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      record.status = res.status;
      record.ok = res.status >= 200 && res.status < 300;
    } catch (e) {
      record.error = e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    this.log.push(record);
    if (record.ok) {
      const pending = job.thin ? undefined : this.pendingEndpoints.get(event.id);
      if (pending?.delete(endpoint.id)) event.pending_webhooks = pending.size;
    } else if (!this.closed) {
      this.logger(
        `webhook ${event.id} (${String(event.type)}) to ${url} failed: ${record.error ?? record.status}`,
      );
    }
    return record.ok;
  }
}

/** What a thin delivery carries: the event without its fetched attributes (data, changes). https://docs.stripe.com/event-destinations#thin-payload */
export function thinNotification(event: StripeObject): Record<string, unknown> {
  const { id, object, type, created, livemode, context, reason, related_object } = event;
  return {
    id,
    object,
    type,
    created,
    livemode,
    context: context ?? null,
    reason: reason ?? null,
    related_object,
  };
}

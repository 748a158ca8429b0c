import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StripeEvent } from '@app/stripe-gateway';
import { inSpan } from '../tracing/trace-context';

/**
 * applied: state changed; stale: older than what is applied (or a repeat); skipped: nothing to do for it;
 * gone: a thin event Stripe no longer keeps (settled, never retried).
 */
export type WebhookHandlerOutcome = 'applied' | 'stale' | 'skipped' | 'gone';

export interface WebhookHandlerContext {
  /** The processing transaction: write state and emit ConnectEvents through it, so they commit with the inbox row. */
  manager: EntityManager;
  event: StripeEvent;
  tenantId: string;
  inboxId: string;
  /** What this handler's `prepare` answered for the event, when it ran; a handler must work without it too. */
  prepared?: unknown;
}

export type WebhookHandler = (ctx: WebhookHandlerContext) => Promise<WebhookHandlerOutcome>;

/** An event about to be processed, as a handler's `prepare` sees it (no transaction, no lock). */
export interface WebhookPrepareItem {
  event: StripeEvent;
  tenantId: string;
  /** When the inbox stored it (the database's clock). */
  receivedAt: Date;
}

export interface WebhookPrepareContext {
  /**
   * The database's clock when the batch was read, so before `prepare` was called: every item was received before
   * it, and whatever `prepare` starts happens after it.
   */
  readAt: Date;
  /** Runs database work in a slot of the job limit, as the transactions do; never hold it across a Stripe call. */
  step<R>(work: () => Promise<R>): Promise<R>;
}

/**
 * Work done for a batch of events before their transactions, outside any row lock and without holding a pool
 * connection, e.g. the Stripe read a handler needs. Answers one value per item (undefined: nothing prepared).
 */
export type WebhookPreparer = (items: WebhookPrepareItem[], ctx: WebhookPrepareContext) => Promise<unknown[]>;

/** Per event: what each handler's `prepare` answered. */
export type PreparedWebhook = Map<WebhookHandler, unknown>;

interface Registration {
  handler: WebhookHandler;
  prepare?: WebhookPreparer;
}

const PRECEDENCE: Record<WebhookHandlerOutcome, number> = { skipped: 0, gone: 1, stale: 2, applied: 3 };

/**
 * Stripe event type → handlers. Feature modules register theirs in `onModuleInit`, so new event families never
 * touch the intake or the processor. Handlers must be idempotent and stale-checked (`isStaleEvent`): replays and
 * re-runs after a failed commit call them again.
 */
@Injectable()
export class WebhookHandlerRegistry {
  private readonly logger = new Logger('Webhooks');
  private readonly handlers = new Map<string, Registration[]>();

  /** Returns a function that removes the registration (tests register temporary handlers). */
  register(types: string[], handler: WebhookHandler, prepare?: WebhookPreparer): () => void {
    const registration: Registration = { handler, prepare };
    for (const type of types) this.handlers.set(type, [...(this.handlers.get(type) ?? []), registration]);
    return () => {
      for (const type of types) {
        const rest = (this.handlers.get(type) ?? []).filter((r) => r !== registration);
        if (rest.length) this.handlers.set(type, rest);
        else this.handlers.delete(type);
      }
    };
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  private readonly platformIgnored = new Set<string>();

  /**
   * Event types whose platform events (no `account`) concern no tenant by design: the processor settles them
   * `ignored` with outcome `platform_ignored` instead of leaving them `unmatched` for an operator to look at.
   */
  ignoreOnPlatform(types: string[]): void {
    for (const type of types) this.platformIgnored.add(type);
  }

  ignoredOnPlatform(type: string): boolean {
    return this.platformIgnored.has(type);
  }

  registeredTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /**
   * Runs the `prepare` of every handler concerned, once per handler for all its items. A failing `prepare` only
   * costs its head start: its items get nothing prepared and the handler does the work in its transaction.
   */
  async prepare(items: WebhookPrepareItem[], ctx: WebhookPrepareContext): Promise<PreparedWebhook[]> {
    const out = items.map((): PreparedWebhook => new Map());
    const byPreparer = new Map<Registration, number[]>();
    items.forEach((item, i) => {
      for (const r of this.handlers.get(item.event.type) ?? []) {
        if (r.prepare) byPreparer.set(r, [...(byPreparer.get(r) ?? []), i]);
      }
    });
    await Promise.all(
      [...byPreparer].map(async ([r, indexes]) => {
        try {
          const results = await r.prepare!(
            indexes.map((i) => items[i]),
            ctx,
          );
          indexes.forEach((i, k) => out[i].set(r.handler, results[k]));
        } catch (err) {
          this.logger.warn(`webhook prepare failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    return out;
  }

  /**
   * Runs every handler of the event's type in order, in the caller's transaction; null when none is registered.
   * With several handlers the strongest outcome wins (applied > stale > skipped).
   */
  async dispatch(
    ctx: WebhookHandlerContext,
    prepared?: PreparedWebhook,
  ): Promise<WebhookHandlerOutcome | null> {
    const registrations = this.handlers.get(ctx.event.type);
    if (!registrations?.length) return null;
    let outcome: WebhookHandlerOutcome = 'skipped';
    for (const { handler } of registrations) {
      const result = await inSpan(
        `webhook handler ${ctx.event.type}`,
        { attributes: { 'stripe.event_id': ctx.event.id, 'stripe.event_type': ctx.event.type } },
        () => handler({ ...ctx, prepared: prepared?.get(handler) }),
      );
      if (PRECEDENCE[result] > PRECEDENCE[outcome]) outcome = result;
    }
    return outcome;
  }
}

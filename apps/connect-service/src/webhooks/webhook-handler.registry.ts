import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StripeEvent } from '@app/stripe-gateway';
import { inSpan } from '../tracing/trace-context';

/** applied: state changed; stale: older than what is applied (or a repeat); skipped: nothing to do for it. */
export type WebhookHandlerOutcome = 'applied' | 'stale' | 'skipped';

export interface WebhookHandlerContext {
  /** The processing transaction: write state and emit ConnectEvents through it, so they commit with the inbox row. */
  manager: EntityManager;
  event: StripeEvent;
  tenantId: string;
  inboxId: string;
}

export type WebhookHandler = (ctx: WebhookHandlerContext) => Promise<WebhookHandlerOutcome>;

const PRECEDENCE: Record<WebhookHandlerOutcome, number> = { skipped: 0, stale: 1, applied: 2 };

/**
 * Stripe event type → handlers. Feature modules register theirs in `onModuleInit`, so new event families never
 * touch the intake or the processor. Handlers must be idempotent and stale-checked (`isStaleEvent`): replays and
 * re-runs after a failed commit call them again.
 */
@Injectable()
export class WebhookHandlerRegistry {
  private readonly handlers = new Map<string, WebhookHandler[]>();

  /** Returns a function that removes the registration (tests register temporary handlers). */
  register(types: string[], handler: WebhookHandler): () => void {
    for (const type of types) this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
    return () => {
      for (const type of types) {
        const rest = (this.handlers.get(type) ?? []).filter((h) => h !== handler);
        if (rest.length) this.handlers.set(type, rest);
        else this.handlers.delete(type);
      }
    };
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  registeredTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /**
   * Runs every handler of the event's type in order, in the caller's transaction; null when none is registered.
   * With several handlers the strongest outcome wins (applied > stale > skipped).
   */
  async dispatch(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome | null> {
    const handlers = this.handlers.get(ctx.event.type);
    if (!handlers?.length) return null;
    let outcome: WebhookHandlerOutcome = 'skipped';
    for (const handler of handlers) {
      const result = await inSpan(
        `webhook handler ${ctx.event.type}`,
        { attributes: { 'stripe.event_id': ctx.event.id, 'stripe.event_type': ctx.event.type } },
        () => handler(ctx),
      );
      if (PRECEDENCE[result] > PRECEDENCE[outcome]) outcome = result;
    }
    return outcome;
  }
}

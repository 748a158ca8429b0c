import { Injectable, OnModuleInit } from '@nestjs/common';
import type { StripePayout } from '@app/stripe-gateway';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from '../webhooks/webhook-handler.registry';
import { PayoutsService } from './payouts.service';

/** https://docs.stripe.com/api/events/types#event_types-payout.canceled and the payout.* events beside it. */
export const PAYOUT_EVENTS = [
  'payout.created',
  'payout.updated',
  'payout.paid',
  'payout.failed',
  'payout.canceled',
  'payout.reconciliation_completed',
];

/**
 * payout.* of connected accounts (Connect endpoint) → the payouts table. The payload is the payout as it was
 * when the event happened; the per-row freshness check keeps an older event from moving it back.
 */
@Injectable()
export class PayoutWebhookHandlers implements OnModuleInit {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly payouts: PayoutsService,
  ) {}

  onModuleInit(): void {
    this.registry.register(PAYOUT_EVENTS, (ctx) => this.onPayout(ctx));
    // The platform's own payouts are the platform's bank business, not a tenant's: never recorded (docs/money-out.md).
    this.registry.ignoreOnPlatform(PAYOUT_EVENTS);
  }

  async onPayout({ manager, event, tenantId }: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    // The platform's own payouts (no `account`) belong to no tenant.
    if (!event.account) return 'skipped';
    const payout = event.data.object as StripePayout;
    const row = await this.payouts.apply(manager, tenantId, payout, event.account, {
      created: event.created,
      id: event.id,
    });
    return row ? 'applied' : 'stale';
  }
}

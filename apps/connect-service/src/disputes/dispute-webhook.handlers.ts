import { Injectable, OnModuleInit } from '@nestjs/common';
import type { StripeDispute } from '@app/stripe-gateway';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from '../webhooks/webhook-handler.registry';
import { DisputesService } from './disputes.service';

/**
 * https://docs.stripe.com/api/events/types#event_types-charge.dispute.closed and its siblings: destination charges'
 * disputes arrive on the account endpoint (no `account`), direct charges' on the Connect endpoint.
 */
export const DISPUTE_EVENTS = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
];

@Injectable()
export class DisputeWebhookHandlers implements OnModuleInit {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly disputes: DisputesService,
  ) {}

  onModuleInit(): void {
    this.registry.register(DISPUTE_EVENTS, (ctx) => this.onDispute(ctx));
  }

  async onDispute({ manager, event, tenantId }: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const dispute = event.data.object as StripeDispute;
    const row = await this.disputes.apply(manager, tenantId, dispute, event.account ?? null, {
      created: event.created,
      id: event.id,
    });
    return row ? 'applied' : 'stale';
  }
}

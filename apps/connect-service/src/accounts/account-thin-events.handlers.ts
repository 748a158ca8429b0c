import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConnectAccountEntity } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { isStaleEvent } from '../webhooks/event-ordering';
import { DEFAULT_THIN_EVENT_TYPES } from '../webhooks/event-destinations.service';
import { isGone } from '../webhooks/thin-events.handlers';
import type { ThinEnvelope } from '../webhooks/thin-events.intake';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from '../webhooks/webhook-handler.registry';
import { AccountsV2Service } from './accounts-v2.service';

/**
 * Thin v2 account events (https://docs.stripe.com/api/v2/core/accounts/event-types): the full event is fetched with
 * its context (an event Stripe no longer keeps settles as `gone`), then the account it relates to, applied like
 * any account change (stale-checked per account). v1 accounts are left to their v1 events.
 */
@Injectable()
export class AccountThinEventHandlers implements OnModuleInit {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly gateway: StripeGateway,
    private readonly v2: AccountsV2Service,
  ) {}

  onModuleInit(): void {
    this.registry.register(DEFAULT_THIN_EVENT_TYPES, (ctx) => this.onAccountEvent(ctx));
  }

  async onAccountEvent(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const thin = ctx.event as unknown as ThinEnvelope;
    try {
      await this.gateway.v2.retrieveEvent(thin.id, thin.context);
    } catch (err) {
      if (isGone(err)) return 'gone';
      throw err;
    }
    const accountId = thin.account;
    if (!accountId) return 'skipped';
    const row = await ctx.manager
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: ctx.tenantId, stripe_account_id: accountId });
    if (!row || row.disconnected_at || row.api_version !== 'v2') return 'skipped';
    const mark = { id: thin.id, created: thin.created };
    if (isStaleEvent({ created: row.last_event_created, id: row.last_event_id }, mark)) return 'stale';
    const applied = await this.v2.refresh(ctx.manager, ctx.tenantId, accountId, mark, isStaleEvent);
    return applied ? 'applied' : 'stale';
  }
}

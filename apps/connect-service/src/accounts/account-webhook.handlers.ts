import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConnectAccountEntity } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { isStaleEvent } from '../webhooks/event-ordering';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from '../webhooks/webhook-handler.registry';
import { AccountsService } from './accounts.service';

/** The connected account an event is about: `account` on Connect events, else the account object itself. */
function accountIdOf(ctx: WebhookHandlerContext): string | null {
  if (ctx.event.account) return ctx.event.account;
  const object = ctx.event.data.object as { object?: string; id?: string };
  return object.object === 'account' && object.id ? object.id : null;
}

/**
 * Account webhooks (https://docs.stripe.com/connect/webhooks). `account.updated` / `capability.updated` never trust the payload: they
 * re-fetch the account and recompute, stale-checked per account. `account.application.deauthorized` marks the
 * account disconnected without calling Stripe, which no longer lets the platform read it.
 */
@Injectable()
export class AccountWebhookHandlers implements OnModuleInit {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly accounts: AccountsService,
    private readonly gateway: StripeGateway,
  ) {}

  onModuleInit(): void {
    this.registry.register(['account.updated', 'capability.updated'], (ctx) => this.onAccountChanged(ctx));
    this.registry.register(['account.application.deauthorized'], (ctx) => this.onDeauthorized(ctx));
  }

  async onAccountChanged(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const accountId = accountIdOf(ctx);
    if (!accountId) return 'skipped';
    const row = await ctx.manager
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: ctx.tenantId, stripe_account_id: accountId });
    if (!row || row.disconnected_at) return 'skipped';
    const mark = { created: ctx.event.created, id: ctx.event.id };
    if (isStaleEvent({ created: row.last_event_created, id: row.last_event_id }, mark)) return 'stale';

    // A failure here throws: the processing transaction rolls back and the job retries.
    const account = await this.gateway.retrieveAccount(accountId);
    const applied = await this.accounts.applyStripeAccount(
      ctx.manager,
      ctx.tenantId,
      account,
      mark,
      isStaleEvent,
    );
    return applied ? 'applied' : 'stale';
  }

  async onDeauthorized(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const accountId = ctx.event.account;
    if (!accountId) return 'skipped';
    const row = await ctx.manager
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: ctx.tenantId, stripe_account_id: accountId });
    if (!row || row.disconnected_at) return 'skipped';
    // A deauthorization from before the current connection (the tenant reconnected since) is history.
    if (row.connected_at && ctx.event.created < Math.floor(row.connected_at.getTime() / 1000)) return 'stale';
    const changed = await this.accounts.markDisconnected(ctx.manager, ctx.tenantId, accountId, 'stripe');
    return changed ? 'applied' : 'skipped';
  }
}

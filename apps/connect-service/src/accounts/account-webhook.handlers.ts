import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConnectAccountEntity } from '@app/database';
import { StripeAccount, StripeEvent, StripeGateway } from '@app/stripe-gateway';
import { ConcurrencyLimit } from '../queue/concurrency-limit';
import { isStaleEvent } from '../webhooks/event-ordering';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
  WebhookPrepareContext,
  WebhookPrepareItem,
} from '../webhooks/webhook-handler.registry';
import { AccountsService } from './accounts.service';

/** Stripe reads of accounts in flight at once for webhooks, per replica: what the job limit allowed before. */
const MAX_CONCURRENT_READS = 4;

/** Above this many remembered reads the memory is cleared (each read is useful for one batch or two only). */
const MAX_REMEMBERED_READS = 10_000;

/** The connected account an event is about: `account` on Connect events, else the account object itself. */
function accountIdOf(event: StripeEvent): string | null {
  if (event.account) return event.account;
  const object = event.data.object as { object?: string; id?: string };
  return object.object === 'account' && object.id ? object.id : null;
}

/** What `prepare` hands the handler: the account as Stripe had it after the event arrived, or why not. */
type PreparedRead = { account: StripeAccount } | { error: unknown };

/** One Stripe read of an account: `startedAt` (performance.now(), when it was asked for) bounds how old it can be. */
interface AccountRead {
  startedAt: number;
  result: Promise<StripeAccount>;
}

/**
 * Account webhooks (https://docs.stripe.com/connect/webhooks). `account.updated` / `capability.updated` never trust the payload: they
 * re-fetch the account and recompute, stale-checked per account. `account.application.deauthorized` marks the
 * account disconnected without calling Stripe, which no longer lets the platform read it.
 *
 * The re-fetch happens before the processing transaction (`prepare`), so no row lock or pool connection waits on
 * Stripe; the transaction checks staleness again under the account's lock. One read serves every event of the
 * account that had arrived before it started: Stripe sends an event after the change, so such a read shows that
 * change (or a later state), exactly as a read made while processing each event alone would.
 */
@Injectable()
export class AccountWebhookHandlers implements OnModuleInit {
  private readonly reads = new Map<string, AccountRead>();
  private readonly readLimit = new ConcurrencyLimit(MAX_CONCURRENT_READS);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: WebhookHandlerRegistry,
    private readonly accounts: AccountsService,
    private readonly gateway: StripeGateway,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      ['account.updated', 'capability.updated'],
      (ctx) => this.onAccountChanged(ctx),
      (items, ctx) => this.prepareAccountChanges(items, ctx),
    );
    this.registry.register(['account.application.deauthorized'], (ctx) => this.onDeauthorized(ctx));
  }

  /**
   * Reads, once per account, the accounts a batch of events will apply: not for an account that is unknown,
   * disconnected (Stripe refuses the read) or already past the event, which the handler settles without Stripe.
   */
  async prepareAccountChanges(
    items: WebhookPrepareItem[],
    ctx: WebhookPrepareContext,
  ): Promise<Array<PreparedRead | undefined>> {
    const ids = items.map((item) => accountIdOf(item.event));
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    if (!wanted.length) return items.map(() => undefined);
    const rows: Array<{
      tenant_id: string;
      stripe_account_id: string;
      disconnected_at: Date | null;
      last_event_created: string | null;
      last_event_id: string | null;
    }> = await ctx.step(() =>
      this.dataSource.query(
        `SELECT tenant_id, stripe_account_id, disconnected_at, last_event_created, last_event_id
           FROM connect_accounts WHERE stripe_account_id = ANY($1)`,
        [wanted],
      ),
    );
    if (this.reads.size > MAX_REMEMBERED_READS) this.reads.clear();
    return Promise.all(
      items.map(async (item, i): Promise<PreparedRead | undefined> => {
        const row = rows.find((r) => r.stripe_account_id === ids[i] && r.tenant_id === item.tenantId);
        if (!row || row.disconnected_at) return undefined;
        const last = {
          created: row.last_event_created === null ? null : Number(row.last_event_created),
          id: row.last_event_id,
        };
        if (isStaleEvent(last, { created: item.event.created, id: item.event.id })) return undefined;
        try {
          return { account: await this.readAccount(row.stripe_account_id, ctx.receivedBefore) };
        } catch (error) {
          return { error };
        }
      }),
    );
  }

  async onAccountChanged(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const accountId = accountIdOf(ctx.event);
    if (!accountId) return 'skipped';
    const mark = { created: ctx.event.created, id: ctx.event.id };
    const prepared = ctx.prepared as PreparedRead | undefined;
    if (prepared && 'account' in prepared) {
      // applyStripeAccount checks the mark under the row's lock; only a row it found connected reaches the check.
      let stale = false;
      const applied = await this.accounts.applyStripeAccount(
        ctx.manager,
        ctx.tenantId,
        prepared.account,
        mark,
        (last, event) => (stale = isStaleEvent(last, event)),
      );
      return applied ? 'applied' : stale ? 'stale' : 'skipped';
    }

    const row = await ctx.manager
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: ctx.tenantId, stripe_account_id: accountId });
    if (!row || row.disconnected_at) return 'skipped';
    if (isStaleEvent({ created: row.last_event_created, id: row.last_event_id }, mark)) return 'stale';
    // The read prepared for it failed: the processing transaction rolls back and the job retries.
    if (prepared) throw prepared.error;

    // Not prepared (processed outside a batch): read now. A failure throws, and the job retries.
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

  /**
   * The account as Stripe has it, from a read asked for no earlier than `receivedBefore`: an earlier read (even one
   * still in flight) is shared when it qualifies, else a new one is made, at most MAX_CONCURRENT_READS at once.
   */
  private readAccount(accountId: string, receivedBefore: number): Promise<StripeAccount> {
    const known = this.reads.get(accountId);
    if (known && known.startedAt >= receivedBefore) return known.result;
    const read: AccountRead = {
      startedAt: performance.now(),
      result: (async () => {
        const release = await this.readLimit.acquire();
        try {
          return await this.gateway.retrieveAccount(accountId);
        } finally {
          release?.();
        }
      })(),
    };
    this.reads.set(accountId, read);
    // A failed read is not shared with later batches: they try again.
    read.result.catch(() => {
      if (this.reads.get(accountId) === read) this.reads.delete(accountId);
    });
    return read.result;
  }
}

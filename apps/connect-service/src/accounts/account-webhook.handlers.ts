import { Injectable, OnModuleInit } from '@nestjs/common';
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
import { ConnectAccountsRepository } from './connect-accounts.repository';

/** Stripe reads of accounts in flight at once for webhooks, per replica: what the job limit allowed before. */
const MAX_CONCURRENT_READS = 4;

/** A read is shared for this long at most, so what applyStripeAccount stamps as synced_at stays that close to it. */
const MAX_SHARED_READ_AGE_MS = 5_000;

/** received_at keeps milliseconds (rounded): a margin so that "received before" is never judged on a rounding. */
const RECEIVED_AT_ROUNDING_MS = 1;

/** Accounts whose last read is remembered (a few KB each); the oldest is forgotten first. */
const MAX_REMEMBERED_READS = 1_000;

/** The connected account an event is about: `account` on Connect events, else the account object itself. */
function accountIdOf(event: StripeEvent): string | null {
  if (event.account) return event.account;
  const object = event.data.object as { object?: string; id?: string };
  return object.object === 'account' && object.id ? object.id : null;
}

/** What `prepare` hands the handler: the account as Stripe had it after the event arrived, or why not. */
type PreparedRead = { account: StripeAccount } | { error: unknown };

/** One Stripe read of an account. */
interface AccountRead {
  /** The database's clock before the read was asked for: the read shows every change of an event received by then. */
  coversReceivedUntil: Date;
  /** performance.now() when it was asked for. */
  askedAt: number;
  result: Promise<StripeAccount>;
}

/**
 * Account webhooks (https://docs.stripe.com/connect/webhooks). `account.updated` / `capability.updated` never trust the payload: they
 * re-fetch the account and recompute, stale-checked per account. `account.application.deauthorized` marks the
 * account disconnected without calling Stripe, which no longer lets the platform read it.
 *
 * The re-fetch happens before the processing transaction (`prepare`), so no row lock or pool connection waits on
 * Stripe; the transaction checks staleness again under the account's lock. One read serves every event of the
 * account received before the read was asked for (by the database's clock, which stamps received_at): Stripe sends
 * an event after the change, so such a read shows that change or a later state, exactly as a read made while
 * processing each event alone would. A backlog of one account's events thus costs one read, not one each.
 */
@Injectable()
export class AccountWebhookHandlers implements OnModuleInit {
  private readonly reads = new Map<string, AccountRead>();
  private readonly readLimit = new ConcurrencyLimit(MAX_CONCURRENT_READS);

  constructor(
    private readonly rows: ConnectAccountsRepository,
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
    const rows = await ctx.step(() => this.rows.eventStates(wanted));
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
          const read = this.readAccount(row.stripe_account_id, item.receivedAt, ctx.readAt);
          return { account: await read };
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
   * The account as Stripe has it, from a read asked for after `receivedAt`: the last read of the account (even one
   * still in flight) when it qualifies and is recent, else a new one, at most MAX_CONCURRENT_READS at once. `now`
   * is a time of the database's clock that has already passed.
   */
  private readAccount(accountId: string, receivedAt: Date, now: Date): Promise<StripeAccount> {
    const known = this.reads.get(accountId);
    if (
      known &&
      known.coversReceivedUntil.getTime() - receivedAt.getTime() >= RECEIVED_AT_ROUNDING_MS &&
      performance.now() - known.askedAt <= MAX_SHARED_READ_AGE_MS
    ) {
      return known.result;
    }
    const read: AccountRead = {
      coversReceivedUntil: now,
      askedAt: performance.now(),
      result: (async () => {
        const release = await this.readLimit.acquire();
        try {
          return await this.gateway.retrieveAccount(accountId);
        } finally {
          release?.();
        }
      })(),
    };
    // Re-inserted at the end, so the map's first entry is the least recently read account.
    this.reads.delete(accountId);
    this.reads.set(accountId, read);
    if (this.reads.size > MAX_REMEMBERED_READS) this.reads.delete(this.reads.keys().next().value as string);
    // A failed read is not shared: the next event tries again.
    read.result.catch(() => {
      if (this.reads.get(accountId) === read) this.reads.delete(accountId);
    });
    return read.result;
  }
}

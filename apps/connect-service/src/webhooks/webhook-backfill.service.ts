import { Injectable, Logger } from '@nestjs/common';
import { ServiceException, ErrorCode } from '@app/common';
import { StripeWebhookEventSource } from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { ConnectAccountsRepository } from '../accounts/connect-accounts.repository';
import { WebhookInboxService } from './webhook-inbox.service';

/** Stripe lists events of the last 30 days only (https://docs.stripe.com/api/events/list). */
export const BACKFILL_WINDOW_SECONDS = 30 * 24 * 3600;

export interface BackfillCounts {
  scanned: number;
  inserted: number;
  duplicates: number;
  /** Connected accounts whose events were listed (the platform's own are listed too). */
  accounts: number;
  /** Connected accounts whose events could not be listed (e.g. access revoked without us hearing of it). */
  failed_accounts: Array<{ stripe_account_id: string; error: string }>;
}

/**
 * Brings in what was missed during an outage: lists events from Stripe's Events API for the platform and each
 * connected account and feeds them through the same inbox path as deliveries (duplicates stop at the unique key).
 */
@Injectable()
export class WebhookBackfillService {
  private readonly logger = new Logger('WebhookBackfill');

  constructor(
    private readonly accounts: ConnectAccountsRepository,
    private readonly gateway: StripeGateway,
    private readonly inbox: WebhookInboxService,
  ) {}

  async backfill(since: Date, until?: Date, now = new Date()): Promise<BackfillCounts> {
    const createdGte = Math.floor(since.getTime() / 1000);
    const createdLte = until ? Math.floor(until.getTime() / 1000) : undefined;
    const fields: Array<{ field: string; errors: string[] }> = [];
    if (createdGte < Math.floor(now.getTime() / 1000) - BACKFILL_WINDOW_SECONDS) {
      fields.push({
        field: 'since',
        errors: ['since must be within the last 30 days (Stripe keeps events 30 days)'],
      });
    }
    if (since.getTime() > now.getTime())
      fields.push({ field: 'since', errors: ['since must not be in the future'] });
    if (createdLte !== undefined && createdLte < createdGte) {
      fields.push({ field: 'until', errors: ['until must not be before since'] });
    }
    if (fields.length)
      throw new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', { fields });

    // Stripe refuses to read a deauthorized account (https://docs.stripe.com/connect/oauth-reference#post-deauthorize): skip them.
    const accounts = await this.accounts.connectedStripeAccountIds();
    const counts: BackfillCounts = {
      scanned: 0,
      inserted: 0,
      duplicates: 0,
      accounts: accounts.length,
      failed_accounts: [],
    };
    // The platform's own events first; a failure there fails the backfill (the caller retries it whole).
    await this.feed(counts, createdGte, createdLte, undefined);
    for (const stripe_account_id of accounts) {
      try {
        await this.feed(counts, createdGte, createdLte, stripe_account_id);
      } catch (err) {
        // One unreadable account must not hide every other account's missed events.
        const error = err instanceof Error ? err.message : String(err);
        counts.failed_accounts.push({ stripe_account_id, error });
        this.logger.warn(
          { stripe_account_id, error },
          'Backfill could not list events of a connected account',
        );
      }
    }
    this.logger.log(
      {
        ...counts,
        failed_accounts: counts.failed_accounts.length,
        since: since.toISOString(),
        until: until?.toISOString(),
      },
      'Webhook backfill done',
    );
    return counts;
  }

  private async feed(
    counts: BackfillCounts,
    createdGte: number,
    createdLte: number | undefined,
    stripeAccount: string | undefined,
  ): Promise<void> {
    for await (const event of this.gateway.iterateEvents({
      createdGte,
      createdLte,
      stripeAccount,
      limit: 100,
    })) {
      counts.scanned++;
      // A connected account's event, listed with Stripe-Account, is attributed to it like a Connect delivery.
      const attributed = stripeAccount && !event.account ? { ...event, account: stripeAccount } : event;
      const { duplicate } = await this.inbox.accept(
        attributed,
        JSON.stringify(attributed),
        StripeWebhookEventSource.Backfill,
      );
      if (duplicate) counts.duplicates++;
      else counts.inserted++;
    }
  }
}

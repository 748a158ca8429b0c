import { Injectable } from '@nestjs/common';
import { ErrorCode, ServiceException } from '@app/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { ConnectAccountEntity, StripeWebhookEventSource } from '@app/database';
import { StripeEvent, StripeGateway, StripeV2Event, StripeV2EventNotification } from '@app/stripe-gateway';
import { WebhookReceiptDto } from './dto/webhook-receipt.dto';
import { EventDestinationsService } from './event-destinations.service';
import { WebhookInboxService } from './webhook-inbox.service';

/** A thin event as the inbox keeps it: Stripe's notification, plus the account and unix `created` processing keys on. */
export interface ThinEnvelope {
  id: string;
  object: 'v2.core.event';
  type: string;
  /** Unix seconds (the inbox's ordering); `created_at` keeps Stripe's RFC 3339 text. */
  created: number;
  created_at: string;
  livemode: boolean;
  /** The connected account it concerns: the context's account, or the account it is about. */
  account: string | null;
  context: string | null;
  related_object: { id: string; type: string; url: string } | null;
  thin: true;
}

/** A body that says it is a thin notification (`object: "v2.core.event"`); verification decides whether it is one. */
export function isThinPayload(raw: Buffer): boolean {
  if (!raw.includes('v2.core.event')) return false;
  try {
    return (JSON.parse(raw.toString('utf8')) as { object?: unknown }).object === 'v2.core.event';
  } catch {
    return false;
  }
}

export function thinEnvelope(n: StripeV2EventNotification | StripeV2Event): ThinEnvelope {
  const context = n.context ? String(n.context) : null;
  const related =
    (n as { related_object?: { id: string; type: string; url: string } | null }).related_object ?? null;
  const fromContext =
    context
      ?.split('/')
      .reverse()
      .find((s) => s.startsWith('acct_')) ?? null;
  const fromObject = related?.id?.startsWith('acct_') ? related.id : null;
  const created =
    typeof n.created === 'string' ? n.created : new Date(n.created as unknown as number).toISOString();
  return {
    id: n.id,
    object: 'v2.core.event',
    type: n.type,
    created: Math.floor(Date.parse(created) / 1000),
    created_at: created,
    livemode: n.livemode,
    account: fromContext ?? fromObject,
    context,
    related_object: related ? { id: related.id, type: related.type, url: related.url } : null,
    thin: true,
  };
}

/**
 * Thin notifications from the service's event destinations: verified with the SDK's `parseEventNotification`
 * against every stored destination secret (rotation), then stored in the same inbox (unique on the event id, so a
 * repeat or a second replica's delivery stores nothing) with their processing job.
 */
@Injectable()
export class ThinEventsIntake {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly destinations: EventDestinationsService,
    private readonly inbox: WebhookInboxService,
  ) {}

  async intake(raw: Buffer, signature: string | undefined): Promise<WebhookReceiptDto> {
    let notification: StripeV2EventNotification;
    try {
      notification = this.gateway.v2.parseEventNotification(
        raw,
        signature,
        await this.destinations.secrets(),
      );
    } catch (err) {
      const reason = err instanceof ServiceException ? err.details?.reason : undefined;
      if (!(err instanceof ServiceException) || err.code !== ErrorCode.WebhookInvalid) throw err;
      if (reason !== 'no_matching_signature' && reason !== 'no_secret_configured') throw err;
      // A destination created on another replica a moment ago: read the secrets again, once.
      notification = this.gateway.v2.parseEventNotification(
        raw,
        signature,
        await this.destinations.secrets(true),
      );
    }
    const envelope = thinEnvelope(notification);
    const { duplicate } = await this.inbox.accept(
      envelope as unknown as StripeEvent,
      JSON.stringify(envelope),
      StripeWebhookEventSource.Webhook,
    );
    return { received: true, duplicate };
  }

  /** Backfill: v2 events Stripe still keeps (30 days) go through the inbox like deliveries. */
  async backfill(
    since: Date,
    until?: Date,
  ): Promise<{
    seen: number;
    inserted: number;
    failed: Array<{ stripe_account_id: string; error: string }>;
  }> {
    const range = {
      createdGte: Math.floor(since.getTime() / 1000),
      ...(until ? { createdLte: Math.floor(until.getTime() / 1000) } : {}),
    };
    // The platform's own, then each connected v2 account's (listed in its context).
    const accounts = await this.dataSource.getRepository(ConnectAccountEntity).find({
      select: { stripe_account_id: true },
      where: { api_version: 'v2', disconnected_at: IsNull() },
    });
    const events = await this.gateway.v2.listEvents(range);
    const failed: Array<{ stripe_account_id: string; error: string }> = [];
    for (const a of accounts) {
      try {
        events.push(...(await this.gateway.v2.listEvents({ ...range, context: a.stripe_account_id })));
      } catch (err) {
        // One unreadable account must not hide every other account's missed events (as the v1 backfill).
        failed.push({
          stripe_account_id: a.stripe_account_id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    let inserted = 0;
    for (const e of events) {
      const envelope = thinEnvelope(e);
      const { duplicate } = await this.inbox.accept(
        envelope as unknown as StripeEvent,
        JSON.stringify(envelope),
        StripeWebhookEventSource.Backfill,
      );
      if (!duplicate) inserted++;
    }
    return { seen: events.length, inserted, failed };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ServiceException, keysetPage, ErrorCode, isUuid } from '@app/common';
import { StripeWebhookEventEntity, StripeWebhookEventSource, StripeWebhookEventStatus } from '@app/database';
import type { StripeEvent } from '@app/stripe-gateway';
import { JobQueue } from '../queue/job-queue.service';
import { annotateActiveSpan, traceCarrierJson } from '../tracing/trace-context';
import { InboxInsert, WebhookInboxRepository } from './webhook-inbox.repository';
import { WEBHOOK_PROCESS_QUEUE } from './webhooks.queues';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecrets } from './webhook-secrets.service';

export interface WebhookProcessJob {
  inboxId: string;
  /** The row's Stripe event id, its shard on Citus (jobs queued before it was carried lack it). */
  eventId?: string;
  /** The intake request's W3C trace context, when tracing is on: processing continues the same trace. */
  traceparent?: string;
}

export interface InboxAcceptResult {
  /** The inbox row created, or null for a duplicate. */
  inboxId: string | null;
  duplicate: boolean;
}

export interface InboxListFilter {
  /** Null: every tenant (platform callers). */
  tenantScope: string | null;
  tenantId?: string;
  status?: StripeWebhookEventStatus;
  type?: string;
  createdGte?: Date;
  createdLte?: Date;
  limit: number;
  cursor?: string;
}

/** The webhook inbox: the one path every event takes in (delivery, backfill) and the operators' view of it. */
@Injectable()
export class WebhookInboxService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly inbox: WebhookInboxRepository,
    private readonly secrets: WebhookSecrets,
    private readonly metrics: WebhookMetrics,
  ) {}

  /**
   * Stores a verified event and, in the same transaction, enqueues its processing; a duplicate does neither.
   * An event of the other mode than the configured key is stored as `ignored` with no job. Throws when the
   * database is unavailable, so the caller answers 5xx and Stripe retries.
   */
  async accept(
    event: StripeEvent,
    payloadJson: string,
    source: StripeWebhookEventSource,
  ): Promise<InboxAcceptResult> {
    const modeMatches = event.livemode === this.secrets.livemode;
    annotateActiveSpan({ 'stripe.event_id': event.id, 'stripe.event_type': event.type });
    const row: InboxInsert = {
      event,
      payloadJson,
      status: modeMatches ? StripeWebhookEventStatus.Received : StripeWebhookEventStatus.Ignored,
      outcome: modeMatches ? null : 'livemode_mismatch',
      source,
    };
    let inboxId: string | null;
    if (!modeMatches) {
      // Nothing to enqueue, so no transaction either.
      inboxId = await this.inbox.insert(row);
      if (inboxId) this.metrics.events.inc({ type: event.type, outcome: 'livemode_mismatch' });
    } else {
      // One statement: the inbox row and its processing job commit together (a duplicate inserts neither). The
      // job's data carries the intake's trace context.
      inboxId = await this.inbox.insertWithJob(row, traceCarrierJson());
      // Committed: wake this replica's idle worker now instead of at its next poll.
      if (inboxId) this.jobs.notify(WEBHOOK_PROCESS_QUEUE);
    }
    if (!inboxId) this.metrics.events.inc({ type: event.type, outcome: 'duplicate' });
    return { inboxId, duplicate: inboxId === null };
  }

  async enqueue(manager: EntityManager, inboxId: string, eventId: string): Promise<void> {
    await this.jobs.send<WebhookProcessJob>(WEBHOOK_PROCESS_QUEUE, { inboxId, eventId }, { manager });
  }

  /**
   * Re-enqueues an inbox row. A processed event runs its handlers again, which is safe because handlers are
   * stale-checked (a repeat of the event applied last is stale); the `connect.webhook.received` event is not
   * emitted twice. Unmatched events resolve their tenant again (the account may be connected by now).
   */
  async replay(id: string, tenantScope: string | null): Promise<StripeWebhookEventEntity> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.findVisible(manager, id, tenantScope, true);
      await manager.update(
        StripeWebhookEventEntity,
        { id: row.id, stripe_event_id: row.stripe_event_id },
        {
          status: StripeWebhookEventStatus.Received,
          source: StripeWebhookEventSource.Replay,
          outcome: null,
          last_error: null,
        },
      );
      await this.enqueue(manager, row.id, row.stripe_event_id);
      return manager.findOneByOrFail(StripeWebhookEventEntity, { id: row.id });
    });
  }

  async get(id: string, tenantScope: string | null): Promise<StripeWebhookEventEntity> {
    return this.findVisible(this.dataSource.manager, id, tenantScope, false);
  }

  async list(
    filter: InboxListFilter,
  ): Promise<{ rows: StripeWebhookEventEntity[]; has_more: boolean; next_cursor: string | null }> {
    const qb = this.dataSource
      .getRepository(StripeWebhookEventEntity)
      .createQueryBuilder('e')
      .select([
        'e.id',
        'e.stripe_event_id',
        'e.type',
        'e.stripe_account_id',
        'e.tenant_id',
        'e.livemode',
        'e.api_version',
        'e.event_created',
        'e.status',
        'e.outcome',
        'e.attempts',
        'e.last_error',
        'e.source',
        'e.received_at',
        'e.processed_at',
      ]);
    if (filter.tenantScope !== null) {
      if (filter.tenantId !== undefined && filter.tenantId !== filter.tenantScope) {
        throw new ServiceException(ErrorCode.Forbidden, 'The caller cannot act for this tenant');
      }
      qb.andWhere('e.tenant_id = :scope', { scope: filter.tenantScope });
    } else if (filter.tenantId !== undefined) {
      qb.andWhere('e.tenant_id = :tenantId', { tenantId: filter.tenantId });
    }
    if (filter.status) qb.andWhere('e.status = :status', { status: filter.status });
    if (filter.type) qb.andWhere('e.type = :type', { type: filter.type });
    if (filter.createdGte) qb.andWhere('e.received_at >= :gte', { gte: filter.createdGte });
    if (filter.createdLte) qb.andWhere('e.received_at <= :lte', { lte: filter.createdLte });
    return keysetPage(qb, { column: 'received_at', limit: filter.limit, cursor: filter.cursor });
  }

  /** Rows of other tenants, and unattributed rows for tenant-scoped callers, answer like missing rows. */
  private async findVisible(
    manager: EntityManager,
    id: string,
    tenantScope: string | null,
    lock: boolean,
  ): Promise<StripeWebhookEventEntity> {
    // Operators may use either the inbox id or Stripe's event id (what Stripe's dashboard shows).
    const where = isUuid(id) ? { id } : id.startsWith('evt_') ? { stripe_event_id: id } : null;
    const found = where ? await manager.findOne(StripeWebhookEventEntity, { where }) : null;
    // Locked by its whole key: on Citus a row lock must name the shard (the inbox's is the Stripe event id).
    const row =
      found && lock
        ? await manager.findOne(StripeWebhookEventEntity, {
            where: { id: found.id, stripe_event_id: found.stripe_event_id },
            lock: { mode: 'pessimistic_write' as const },
          })
        : found;
    if (!row || (tenantScope !== null && row.tenant_id !== tenantScope)) {
      throw new ServiceException(ErrorCode.NotFound, 'Webhook event not found');
    }
    return row;
  }
}

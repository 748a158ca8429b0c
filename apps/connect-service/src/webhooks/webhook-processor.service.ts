import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StripeWebhookEventEntity, StripeWebhookEventStatus } from '@app/database';
import type { StripeEvent } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { WebhookHandlerRegistry } from './webhook-handler.registry';
import { WEBHOOK_PROCESS_QUEUE, WebhookProcessJob } from './webhook-inbox.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecrets } from './webhook-secrets.service';
import { WebhookTenantResolver } from './webhook-tenant-resolver.service';

/** States a job finds and leaves alone: this is what makes a second job for one event a no-op. */
const SETTLED = new Set<StripeWebhookEventStatus>([
  StripeWebhookEventStatus.Processed,
  StripeWebhookEventStatus.Ignored,
  StripeWebhookEventStatus.Unmatched,
]);

const MAX_ERROR_LENGTH = 2000;

export interface ProcessResult {
  status: StripeWebhookEventStatus;
  outcome: string;
}

/**
 * Processes inbox rows from the `stripe-webhook.process` queue. Everything one event changes (the handler's
 * state, its ConnectEvents, `connect.webhook.received`, the inbox row) commits in one transaction that holds the
 * row's lock: duplicate jobs, replays and any number of replicas serialise on it and see it settled.
 */
@Injectable()
export class WebhookProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly registry: WebhookHandlerRegistry,
    private readonly resolver: WebhookTenantResolver,
    private readonly events: EventsService,
    private readonly secrets: WebhookSecrets,
    private readonly metrics: WebhookMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Backoff from 2 s doubling over 8 retries spans ~8 minutes; after that the dead letter marks the row.
    await this.jobs.define({
      name: WEBHOOK_PROCESS_QUEUE,
      retryLimit: 8,
      retryDelaySeconds: 2,
      retryBackoff: true,
    });
    await this.jobs.work<WebhookProcessJob>(
      WEBHOOK_PROCESS_QUEUE,
      // 8, not 4: processing is round-trip bound (7 per event), so more workers drain faster (149 -> 208 events/s
      // in the benchmark, BENCHMARKS.md) without slowing the intake. Each holds a pool connection only while it processes.
      { concurrency: 8, batchSize: 1 },
      async (job) => {
        await this.process(job.data.inboxId);
      },
    );
    await this.jobs.work<WebhookProcessJob>(
      `${WEBHOOK_PROCESS_QUEUE}.dead`,
      { concurrency: 1 },
      async (job) => {
        await this.markDead(job.data.inboxId);
      },
    );
  }

  /** Processes one inbox row; throws (after recording the error) so the queue retries it. Null: nothing to do. */
  async process(inboxId: string): Promise<ProcessResult | null> {
    let settled: (ProcessResult & { type: string; lagSeconds: number | null }) | null;
    try {
      settled = await this.dataSource.transaction(async (manager) => {
        const row = await manager.findOne(StripeWebhookEventEntity, {
          where: { id: inboxId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!row || SETTLED.has(row.status)) return null;
        const event = row.payload as unknown as StripeEvent;
        const firstTime = row.processed_at === null;
        const finish = async (status: StripeWebhookEventStatus, outcome: string, tenantId: string | null) => {
          const now = new Date();
          await manager.update(StripeWebhookEventEntity, row.id, {
            status,
            outcome,
            tenant_id: tenantId,
            attempts: row.attempts + 1,
            last_error: null,
            ...(firstTime && status !== StripeWebhookEventStatus.Unmatched ? { processed_at: now } : {}),
          });
          const lagSeconds =
            firstTime && status === StripeWebhookEventStatus.Processed
              ? (now.getTime() - row.received_at.getTime()) / 1000
              : null;
          return { status, outcome, type: row.type, lagSeconds };
        };

        if (row.livemode !== this.secrets.livemode) {
          return finish(StripeWebhookEventStatus.Ignored, 'livemode_mismatch', row.tenant_id);
        }
        const tenantId = row.tenant_id ?? (await this.resolver.resolve(manager, event));
        // Not retried: only a later connection or a replay can give it a tenant.
        if (!tenantId) return finish(StripeWebhookEventStatus.Unmatched, 'unmatched', null);

        const outcome = await this.registry.dispatch({ manager, event, tenantId, inboxId: row.id });
        if (outcome === null) return finish(StripeWebhookEventStatus.Ignored, 'no_handler', tenantId);

        if (firstTime) {
          await this.events.emit(manager, {
            type: 'connect.webhook.received',
            tenant_id: tenantId,
            data: { stripe_event_id: row.stripe_event_id, type: row.type, account: row.stripe_account_id },
          });
        }
        return finish(StripeWebhookEventStatus.Processed, outcome, tenantId);
      });
    } catch (err) {
      await this.recordFailure(inboxId, err);
      throw err;
    }
    if (!settled) return null;
    this.metrics.events.inc({ type: settled.type, outcome: settled.outcome });
    if (settled.lagSeconds !== null) this.metrics.lag.observe({ type: settled.type }, settled.lagSeconds);
    return { status: settled.status, outcome: settled.outcome };
  }

  /** Outside the rolled-back transaction, so the operators see the attempt and why it failed. */
  private async recordFailure(inboxId: string, err: unknown): Promise<void> {
    const message = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(
      0,
      MAX_ERROR_LENGTH,
    );
    this.logger.warn({ inboxId, err: message }, 'Webhook processing failed; the queue retries it');
    try {
      const result: [Array<{ type: string }>, number] = await this.dataSource.query(
        `UPDATE stripe_webhook_events SET attempts = attempts + 1, last_error = $2, status = 'failed'
         WHERE id = $1 AND status IN ('received', 'failed') RETURNING type`,
        [inboxId, message],
      );
      const type = result[0]?.[0]?.type;
      if (type) this.metrics.events.inc({ type, outcome: 'failed' });
    } catch {
      // The database itself may be what failed; the job's retry still happens.
    }
  }

  private async markDead(inboxId: string): Promise<void> {
    const result: [Array<{ type: string }>, number] = await this.dataSource.query(
      `UPDATE stripe_webhook_events SET status = 'dead' WHERE id = $1 AND status IN ('received', 'failed') RETURNING type`,
      [inboxId],
    );
    const type = result[0]?.[0]?.type;
    if (type) {
      this.metrics.events.inc({ type, outcome: 'dead' });
      this.logger.error(
        { inboxId, type },
        'Webhook event dead-lettered after its last retry; replay it once fixed',
      );
    }
  }
}

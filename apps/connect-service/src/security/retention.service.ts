import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { securityConfig } from '@app/config';
import { DataSource, EntityManager } from 'typeorm';
import { JobQueue } from '../queue/job-queue.service';
import { RetentionRepository } from './retention.repository';
import { RETENTION_QUEUE, SECURITY_QUEUES } from './security.queues';

const BATCH = 1000;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  webhookPayloads: number;
  deliveryAttemptBodies: number;
  auditRows: number;
}

/**
 * Data retention: once a day (RETENTION_CRON), on the job queue so one replica runs it, purges
 * - webhook payloads older than RETENTION_WEBHOOK_PAYLOAD_DAYS: the payload becomes `{}` but the row and its
 *   `stripe_event_id` stay, so a late duplicate delivery still stops at the unique key; events still to be
 *   processed (received, failed) keep their payload;
 * - outbound delivery attempt bodies older than RETENTION_DELIVERY_ATTEMPT_DAYS (status, timing and error stay);
 * - audit rows older than RETENTION_AUDIT_DAYS, the only DELETE the audit_log trigger lets through.
 * Batched, one transaction per batch, so a large backlog never holds long locks.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Retention');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    private readonly rows: RetentionRepository,
    @Inject(securityConfig.KEY) private readonly cfg: ConfigType<typeof securityConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define(SECURITY_QUEUES.retention);
    await this.queue.schedule(RETENTION_QUEUE, this.cfg.retentionCron);
    await this.queue.work(RETENTION_QUEUE, { batchSize: 1 }, async () => {
      const result = await this.purge();
      this.logger.log(result, 'Retention purge done');
    });
  }

  async purge(now: Date = new Date()): Promise<RetentionResult> {
    const before = (days: number): Date => new Date(now.getTime() - days * DAY_MS);
    const webhookPayloads = await this.inBatches((m) =>
      this.rows.scrubWebhookPayloads(m, before(this.cfg.retentionWebhookPayloadDays), BATCH),
    );
    const deliveryAttemptBodies = await this.inBatches((m) =>
      this.rows.scrubDeliveryBodies(m, before(this.cfg.retentionDeliveryAttemptDays), BATCH),
    );
    const auditRows = await this.inBatches((m) =>
      this.rows.deleteAuditRows(m, before(this.cfg.retentionAuditDays), BATCH),
    );
    return { webhookPayloads, deliveryAttemptBodies, auditRows };
  }

  /** One transaction per batch, until a batch comes back short. */
  private async inBatches(batch: (m: EntityManager) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const affected = await this.dataSource.transaction(batch);
      total += affected;
      if (affected < BATCH) return total;
    }
  }
}

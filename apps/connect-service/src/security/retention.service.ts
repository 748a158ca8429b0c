import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { securityConfig } from '@app/config';
import { DataSource, EntityManager } from 'typeorm';
import { JobQueue } from '../queue/job-queue.service';

export const RETENTION_QUEUE = 'security.retention';

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
    @Inject(securityConfig.KEY) private readonly cfg: ConfigType<typeof securityConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define({
      name: RETENTION_QUEUE,
      retryLimit: 3,
      retryDelaySeconds: 300,
      retryBackoff: true,
      expireInSeconds: 3600,
    });
    await this.queue.schedule(RETENTION_QUEUE, this.cfg.retentionCron);
    await this.queue.work(RETENTION_QUEUE, { batchSize: 1 }, async () => {
      const result = await this.purge();
      this.logger.log(result, 'Retention purge done');
    });
  }

  async purge(now: Date = new Date()): Promise<RetentionResult> {
    const before = (days: number): Date => new Date(now.getTime() - days * DAY_MS);
    const webhookPayloads = await this.inBatches(
      `UPDATE stripe_webhook_events SET payload = '{}'::jsonb WHERE id IN (
         SELECT id FROM stripe_webhook_events
         WHERE received_at < $1 AND payload <> '{}'::jsonb AND status NOT IN ('received', 'failed')
         LIMIT ${BATCH})`,
      before(this.cfg.retentionWebhookPayloadDays),
    );
    const deliveryAttemptBodies = await this.inBatches(
      `UPDATE event_delivery_attempts SET response_body = NULL WHERE id IN (
         SELECT id FROM event_delivery_attempts WHERE created_at < $1 AND response_body IS NOT NULL LIMIT ${BATCH})`,
      before(this.cfg.retentionDeliveryAttemptDays),
    );
    const auditRows = await this.inBatches(
      `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < $1 LIMIT ${BATCH})`,
      before(this.cfg.retentionAuditDays),
      // SET LOCAL: the trigger's permission ends with this transaction.
      (m) => m.query(`SET LOCAL connect.retention = 'on'`),
    );
    return { webhookPayloads, deliveryAttemptBodies, auditRows };
  }

  private async inBatches(
    sql: string,
    cutoff: Date,
    prepare?: (m: EntityManager) => Promise<unknown>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const affected = await this.dataSource.transaction(async (m) => {
        if (prepare) await prepare(m);
        const [, count] = (await m.query(sql, [cutoff])) as [unknown, number];
        return count;
      });
      total += affected;
      if (affected < BATCH) return total;
    }
  }
}

import { Module, OnApplicationBootstrap } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { JobQueue } from '../queue/job-queue.service';
import { JobQueueModule } from '../queue/job-queue.module';
import { StripeModule } from '../stripe/stripe.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DisputeMetrics } from './dispute-metrics';
import { DisputeRecoveryService } from './dispute-recovery.service';
import { DisputeRemindersService } from './dispute-reminders.service';
import { DisputeWebhookHandlers } from './dispute-webhook.handlers';
import { DisputesController } from './disputes.controller';
import { DisputesRepository } from './disputes.repository';
import { DISPUTE_RECOVERY_QUEUE, DisputeRecoveryJob, DISPUTES_QUEUES } from './disputes.queues';
import { DisputesService } from './disputes.service';

/** Disputes of tenants' payments: our record, evidence, acceptance and recovery of platform-liable losses. */
@Module({
  imports: [DatabaseModule, JobQueueModule, StripeModule, EventsModule, AuditModule, WebhooksModule],
  controllers: [DisputesController],
  providers: [
    DisputesRepository,
    DisputesService,
    DisputeRecoveryService,
    DisputeWebhookHandlers,
    DisputeMetrics,
    DisputeRemindersService,
  ],
  exports: [DisputesRepository, DisputesService],
})
export class DisputesModule implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly recovery: DisputeRecoveryService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define(DISPUTES_QUEUES.recovery);
    await this.queue.work<DisputeRecoveryJob>(
      DISPUTE_RECOVERY_QUEUE,
      { batchSize: 1, concurrency: 1 },
      async (job) => this.recovery.run(job.data),
    );
  }
}

import { Module, OnApplicationBootstrap } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { EventsModule } from '../events/events.module';
import { JobQueueModule } from '../queue/job-queue.module';
import { JobQueue } from '../queue/job-queue.service';
import { StripeModule } from '../stripe/stripe.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { IdempotencyService } from './idempotency.service';
import { PaymentsWebhookHandlers } from './payments-webhook.handlers';
import { PaymentsController } from './payments.controller';
import { PaymentsService, RECONCILE_QUEUE, ReconcileJob, RefundReconcileJob } from './payments.service';
import { SubscriptionsService } from './subscriptions.service';

/** Payment routing, fees, refunds, subscriptions and our Idempotency-Key. */
@Module({
  imports: [DatabaseModule, CryptoModule, JobQueueModule, StripeModule, EventsModule, WebhooksModule],
  controllers: [PaymentsController],
  providers: [PaymentsService, SubscriptionsService, IdempotencyService, PaymentsWebhookHandlers],
  exports: [PaymentsService],
})
export class PaymentsModule implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly payments: PaymentsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Unknown outcomes are retried with backoff for about an hour before they dead-letter for an operator.
    await this.queue.define({
      name: RECONCILE_QUEUE,
      retryLimit: 10,
      retryDelaySeconds: 5,
      retryBackoff: true,
    });
    await this.queue.work<ReconcileJob | RefundReconcileJob>(
      RECONCILE_QUEUE,
      { batchSize: 1, concurrency: 1 },
      async (job) => {
        await this.payments.reconcile(job.data);
        if (job.retryCount === 0) await this.idempotency.purgeExpired();
      },
    );
  }
}

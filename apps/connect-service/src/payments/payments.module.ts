import { Module, OnApplicationBootstrap } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { FeesModule } from '../fees/fees.module';
import { JobQueueModule } from '../queue/job-queue.module';
import { JobQueue } from '../queue/job-queue.service';
import { StripeModule } from '../stripe/stripe.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { RoutingModule } from '../routing/routing.module';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { PaymentsWebhookHandlers } from './payments-webhook.handlers';
import { PaymentsController } from './payments.controller';
import { PaymentOutcomes } from './payment-outcomes.service';
import { PaymentsService } from './payments.service';
import { RoutedPaymentPipeline } from './routed-payment.pipeline';
import { RefundsService } from './refunds.service';
import { RouteRecords } from './route-records.service';
import { RECONCILE_QUEUE, ReconcileJob, RefundReconcileJob, isRefundJob } from './stripe-params';
import { SPLIT_QUEUE, SplitJob, SplitTransfersService } from './split-transfers.service';
import { SubscriptionsService } from './subscriptions.service';

/** Payment routing, fees, refunds, subscriptions and our Idempotency-Key. */
@Module({
  imports: [
    DatabaseModule,
    AuditModule,
    CryptoModule,
    JobQueueModule,
    StripeModule,
    EventsModule,
    WebhooksModule,
    RoutingModule,
    FeesModule,
  ],
  controllers: [PaymentsController],
  providers: [
    PaymentsService,
    PaymentOutcomes,
    RoutedPaymentPipeline,
    RefundsService,
    RouteRecords,
    SplitTransfersService,
    SubscriptionsService,
    IdempotencyService,
    IdempotencyRepository,
    PaymentRoutesRepository,
    PaymentsWebhookHandlers,
  ],
  exports: [PaymentsService, RefundsService, PaymentsWebhookHandlers],
})
export class PaymentsModule implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly splits: SplitTransfersService,
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
        if (isRefundJob(job.data)) await this.refunds.reconcile(job.data);
        else await this.payments.reconcile(job.data);
        if (job.retryCount === 0) await this.idempotency.purgeExpired();
      },
    );
    await this.queue.define({ name: SPLIT_QUEUE, retryLimit: 10, retryDelaySeconds: 5, retryBackoff: true });
    await this.queue.work<SplitJob>(SPLIT_QUEUE, { batchSize: 1, concurrency: 1 }, async (job) =>
      this.splits.run(job.data),
    );
  }
}

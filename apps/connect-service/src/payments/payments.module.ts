import { Module } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { FeesModule } from '../fees/fees.module';
import { JobQueueModule } from '../queue/job-queue.module';
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
import { PaymentsWorker } from './payments.worker';
import { RefundsService } from './refunds.service';
import { RouteRecords } from './route-records.service';
import { SplitTransfersService } from './split-transfers.service';
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
    PaymentsWorker,
  ],
  exports: [PaymentsService, RefundsService, PaymentsWebhookHandlers],
})
export class PaymentsModule {}

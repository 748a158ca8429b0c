import { Module } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { IdempotencyRepository } from '../payments/idempotency.repository';
import { IdempotencyService } from '../payments/idempotency.service';
import { AuditModule } from '../audit/audit.module';
import { DisputesModule } from '../disputes/disputes.module';
import { EventsModule } from '../events/events.module';
import { RedisModule } from '../redis/redis.module';
import { StripeModule } from '../stripe/stripe.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { BalanceCacheService } from './balance-cache.service';
import { PayoutSourcesService } from './payout-sources.service';
import { PayoutReconciler } from './payout-reconciler.service';
import { PayoutWebhookHandlers } from './payout-webhook.handlers';
import { PayoutsController } from './payouts.controller';
import { PayoutsRepository } from './payouts.repository';
import { PayoutsService } from './payouts.service';

/** Balances, payouts, schedules and what a payout contains, per tenant. */
@Module({
  imports: [
    DatabaseModule,
    CryptoModule,
    RedisModule,
    StripeModule,
    EventsModule,
    AuditModule,
    WebhooksModule,
    DisputesModule,
  ],
  controllers: [PayoutsController],
  providers: [
    IdempotencyService,
    IdempotencyRepository,
    PayoutsRepository,
    PayoutsService,
    PayoutSourcesService,
    BalanceCacheService,
    PayoutWebhookHandlers,
    PayoutReconciler,
  ],
  exports: [PayoutsRepository, PayoutsService, PayoutReconciler, PayoutSourcesService],
})
export class PayoutsModule {}

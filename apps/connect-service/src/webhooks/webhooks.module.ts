import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EventsModule } from '../events/events.module';
import { JobQueueModule } from '../queue/job-queue.module';
import { StripeModule } from '../stripe/stripe.module';
import { SecurityModule } from '../security/security.module';
import { WebhookBackfillService } from './webhook-backfill.service';
import { WebhookHandlerRegistry } from './webhook-handler.registry';
import { ConnectAccountsRepository } from '../accounts/connect-accounts.repository';
import { PaymentRoutesRepository } from '../payments/payment-routes.repository';
import { WebhookInboxRepository } from './webhook-inbox.repository';
import { WebhookInboxService } from './webhook-inbox.service';
import { WebhookIntake } from './webhook-intake.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookProcessor } from './webhook-processor.service';
import { WebhookSecrets } from './webhook-secrets.service';
import { WebhookTenantResolver } from './webhook-tenant-resolver.service';
import { WebhooksController } from './webhooks.controller';

/**
 * Stripe webhook intake (verify, store in the inbox, enqueue) and processing (tenant, handlers, exactly once).
 * Feature modules import it to inject `WebhookHandlerRegistry` and register their handlers in `onModuleInit`.
 */
@Module({
  imports: [DatabaseModule, JobQueueModule, StripeModule, EventsModule, SecurityModule],
  controllers: [WebhooksController],
  providers: [
    WebhookSecrets,
    WebhookMetrics,
    WebhookHandlerRegistry,
    WebhookTenantResolver,
    WebhookInboxService,
    WebhookIntake,
    WebhookProcessor,
    WebhookBackfillService,
    WebhookInboxRepository,
    // Read by the tenant resolver; the accounts and payments modules import this one, so it provides their readers.
    ConnectAccountsRepository,
    PaymentRoutesRepository,
  ],
  exports: [
    WebhookHandlerRegistry,
    WebhookSecrets,
    WebhookInboxService,
    WebhookBackfillService,
    WebhookProcessor,
    WebhookInboxRepository,
  ],
})
export class WebhooksModule {}

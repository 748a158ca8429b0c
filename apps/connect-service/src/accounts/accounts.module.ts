import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectAccountEntity, DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { RedisModule } from '../redis/redis.module';
import { StripeModule } from '../stripe/stripe.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AccountCacheService } from './account-cache.service';
import { AccountMetrics } from './account-metrics';
import { AccountWebhookHandlers } from './account-webhook.handlers';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { ConnectAccountsRepository } from './connect-accounts.repository';
import { AccountSessionsService } from './account-sessions.service';
import { AccountsV2Controller } from './accounts-v2.controller';
import { AccountThinEventHandlers } from './account-thin-events.handlers';
import { AccountsV2Service } from './accounts-v2.service';
import { RequirementNoticesRepository } from './requirement-notices.repository';
import { RequirementNoticesService } from './requirements-notices.service';
import { JobQueueModule } from '../queue/job-queue.module';

@Module({
  imports: [
    DatabaseModule,
    TypeOrmModule.forFeature([ConnectAccountEntity]),
    RedisModule,
    AuditModule,
    StripeModule,
    EventsModule,
    WebhooksModule,
    JobQueueModule,
  ],
  // The v2 controller first: its `GET /connect/accounts` must not be taken for `GET /connect/accounts/:tenantId`.
  controllers: [AccountsV2Controller, AccountsController],
  providers: [
    AccountsService,
    AccountCacheService,
    AccountWebhookHandlers,
    AccountMetrics,
    ConnectAccountsRepository,
    AccountsV2Service,
    AccountSessionsService,
    RequirementNoticesRepository,
    RequirementNoticesService,
    AccountThinEventHandlers,
  ],
  exports: [AccountsService, AccountsV2Service, ConnectAccountsRepository],
})
export class AccountsModule {}

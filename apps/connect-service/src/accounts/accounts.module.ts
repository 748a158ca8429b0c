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

@Module({
  imports: [
    DatabaseModule,
    TypeOrmModule.forFeature([ConnectAccountEntity]),
    RedisModule,
    AuditModule,
    StripeModule,
    EventsModule,
    WebhooksModule,
  ],
  controllers: [AccountsController],
  providers: [
    AccountsService,
    AccountCacheService,
    AccountWebhookHandlers,
    AccountMetrics,
    ConnectAccountsRepository,
  ],
  exports: [AccountsService, ConnectAccountsRepository],
})
export class AccountsModule {}

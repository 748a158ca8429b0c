import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectAccountEntity } from '@app/database';
import { AccountCacheService } from './account-cache.service';
import { AccountMetrics } from './account-metrics';
import { AccountWebhookHandlers } from './account-webhook.handlers';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  imports: [TypeOrmModule.forFeature([ConnectAccountEntity])],
  controllers: [AccountsController],
  providers: [AccountsService, AccountCacheService, AccountWebhookHandlers, AccountMetrics],
  exports: [AccountsService],
})
export class AccountsModule {}

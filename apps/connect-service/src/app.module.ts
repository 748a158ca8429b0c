import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { AppConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { AccountsModule } from './accounts/accounts.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logger.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';

@Module({
  imports: [
    AppConfigModule,
    LoggingModule,
    DatabaseModule,
    RedisModule,
    AuthModule,
    HealthModule,
    MetricsModule,
    AccountsModule,
  ],
})
export class AppModule {}

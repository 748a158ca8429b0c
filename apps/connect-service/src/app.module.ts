import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { CryptoModule } from '@app/common';
import { AppConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { StripeGatewayModule } from '@app/stripe-gateway';
import { AccountsModule } from './accounts/accounts.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logger.module';
import { MetricsModule } from './metrics/metrics.module';
import { JobQueueModule } from './queue/job-queue.module';
import { RedisModule } from './redis/redis.module';
import { stripeConnectionProvider } from './stripe/stripe-connection.provider';

@Module({
  imports: [
    AppConfigModule,
    LoggingModule,
    DatabaseModule,
    RedisModule,
    CryptoModule,
    JobQueueModule,
    StripeGatewayModule.forRoot({ connectionProvider: stripeConnectionProvider }),
    AuthModule,
    HealthModule,
    MetricsModule,
    AccountsModule,
  ],
})
export class AppModule {}

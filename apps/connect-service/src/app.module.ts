import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { CryptoModule } from '@app/common';
import { AppConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { AccountsModule } from './accounts/accounts.module';
import { AnalyticsModule } from './analytics/analytics.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthSessionsModule } from './auth-sessions/auth-sessions.module';
import { ConnectOAuthModule } from './connect-oauth/connect-oauth.module';
import { ErrorTrackingModule } from './error-tracking/error-tracking.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logger.module';
import { MetricsModule } from './metrics/metrics.module';
import { PaymentsModule } from './payments/payments.module';
import { JobQueueModule } from './queue/job-queue.module';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { RedisModule } from './redis/redis.module';
import { RoutingModule } from './routing/routing.module';
import { SecurityModule } from './security/security.module';
import { StripeModule } from './stripe/stripe.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    AppConfigModule,
    LoggingModule,
    ErrorTrackingModule,
    DatabaseModule,
    RedisModule,
    CryptoModule,
    JobQueueModule,
    StripeModule,
    AuthModule,
    // After AuthModule: its rate-limit guard runs after the auth guards (see SecurityModule).
    SecurityModule,
    AuditModule,
    ApiKeysModule,
    AuthSessionsModule,
    HealthModule,
    MetricsModule,
    AccountsModule,
    ConnectOAuthModule,
    EventsModule,
    WebhooksModule,
    RoutingModule,
    PaymentsModule,
    ReconciliationModule,
    AnalyticsModule,
  ],
})
export class AppModule {}

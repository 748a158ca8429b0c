import { ConnectAccountEntity } from './connect-account.entity';
import { OAuthStateEntity } from './oauth-state.entity';
import { AuthRevocationEntity } from './auth-revocation.entity';
import { PaymentRouteEntity } from './payment-route.entity';
import { IdempotencyRecordEntity } from './idempotency-record.entity';
import { StripeWebhookEventEntity } from './stripe-webhook-event.entity';
import { ConnectEventEntity } from './connect-event.entity';
import { EventSubscriptionEntity } from './event-subscription.entity';
import { EventDeliveryEntity } from './event-delivery.entity';
import { EventDeliveryAttemptEntity } from './event-delivery-attempt.entity';
import { ApiKeyEntity } from './api-key.entity';
import { AuditLogEntity } from './audit-log.entity';
import {
  ReconciliationItemEntity,
  ReconciliationJobEntity,
  ReconciliationMatchEntity,
  ReconciliationPageEntity,
  ReconciliationRunEntity,
} from './reconciliation.entity';
import { RoutingRuleSetEntity } from './routing-rule-set.entity';
import {
  AnalyticsPlatformRollupDailyEntity,
  AnalyticsPlatformRollupHourlyEntity,
  AnalyticsRollupDailyEntity,
  AnalyticsRollupDeltaEntity,
  AnalyticsRollupHourlyEntity,
} from './analytics-rollup.entity';

export * from './connect-event.entity';
export * from './event-subscription.entity';
export * from './event-delivery.entity';
export * from './event-delivery-attempt.entity';
export * from './connect-account.entity';
export * from './oauth-state.entity';
export * from './auth-revocation.entity';
export * from './payment-route.entity';
export * from './idempotency-record.entity';
export * from './stripe-webhook-event.entity';
export * from './api-key.entity';
export * from './audit-log.entity';
export * from './reconciliation.entity';
export * from './routing-rule-set.entity';
export * from './analytics-rollup.entity';

/** Every entity the data source knows; feature modules register theirs here as they add tables. */
export const ENTITIES = [
  ConnectAccountEntity,
  PaymentRouteEntity,
  IdempotencyRecordEntity,
  ConnectEventEntity,
  EventSubscriptionEntity,
  EventDeliveryEntity,
  EventDeliveryAttemptEntity,
  StripeWebhookEventEntity,
  OAuthStateEntity,
  ApiKeyEntity,
  AuditLogEntity,
  ReconciliationRunEntity,
  ReconciliationJobEntity,
  ReconciliationMatchEntity,
  ReconciliationPageEntity,
  ReconciliationItemEntity,
  RoutingRuleSetEntity,
  AnalyticsRollupHourlyEntity,
  AnalyticsRollupDailyEntity,
  AnalyticsPlatformRollupHourlyEntity,
  AnalyticsPlatformRollupDailyEntity,
  AnalyticsRollupDeltaEntity,
  AuthRevocationEntity,
];

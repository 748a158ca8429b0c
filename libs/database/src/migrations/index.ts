import { InitialSchema1764130000000 } from './1764130000000-initial-schema';
import { Payments1764170000000 } from './1764170000000-payments';
import { WebhookInbox1764140000000 } from './1764140000000-webhook-inbox';
import { Onboarding1764160000000 } from './1764160000000-onboarding';
import { ConnectEvents1764150000000 } from './1764150000000-connect-events';
import { Security1764180000000 } from './1764180000000-security';
import { RoutingColumns1764190000000 } from './1764190000000-routing-columns';
import { Reconciliation1764210000000 } from './1764210000000-reconciliation';
import { RoutingRuleSets1764200000000 } from './1764200000000-routing-rule-sets';
import { AnalyticsRollups1764220000000 } from './1764220000000-analytics-rollups';
import { AuthRevocations1764350000000 } from './1764350000000-auth-revocations';
import { MoneyOut1764340000000 } from './1764340000000-money-out';
import { AccountMoneySettings1764340000001 } from './1764340000001-account-money-settings';
import { AccountsV21764320000000 } from './1764320000000-accounts-v2';
import { ShardingKeys1764380000000 } from './1764380000000-sharding-keys';
import { CitusDistribution1764380000001 } from './1764380000001-citus-distribution';
import { PayoutDriftCategories1764394000000 } from './1764394000000-payout-drift-categories';
import { DisputeRouteLink1764394000001 } from './1764394000001-dispute-route-link';

/** In order. A new migration is added here and nowhere else. */
export const MIGRATIONS = [
  InitialSchema1764130000000,
  WebhookInbox1764140000000,
  ConnectEvents1764150000000,
  Onboarding1764160000000,
  Payments1764170000000,
  Security1764180000000,
  RoutingColumns1764190000000,
  RoutingRuleSets1764200000000,
  Reconciliation1764210000000,
  AnalyticsRollups1764220000000,
  AccountsV21764320000000,
  MoneyOut1764340000000,
  AccountMoneySettings1764340000001,
  AuthRevocations1764350000000,
  ShardingKeys1764380000000,
  CitusDistribution1764380000001,
  PayoutDriftCategories1764394000000,
  DisputeRouteLink1764394000001,
];

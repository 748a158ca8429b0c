import { ConnectAccountEntity } from './connect-account.entity';
import { PaymentRouteEntity } from './payment-route.entity';

export * from './connect-account.entity';
export * from './payment-route.entity';

/** Every entity the data source knows; feature modules register theirs here as they add tables. */
export const ENTITIES = [ConnectAccountEntity, PaymentRouteEntity];

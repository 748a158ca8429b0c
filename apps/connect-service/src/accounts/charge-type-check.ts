import { ErrorCode, ServiceException } from '@app/common';
import type { ConnectAccountEntity } from '@app/database';
import { missingChargeCapability } from './account-v2-rules';

/**
 * Refuses, before Stripe is called, a charge the v2 account's configurations do not allow yet: destination and
 * separate charges need the recipient's `stripe_balance.stripe_transfers` (or merchant `card_payments` with
 * `on_behalf_of`), direct charges merchant `card_payments`. v1 accounts keep their existing checks.
 */
export function assertChargeAllowed(
  account: Pick<ConnectAccountEntity, 'api_version' | 'configurations' | 'tenant_id'>,
  chargeType: string,
  onBehalfOf: boolean,
): void {
  if (account.api_version !== 'v2') return;
  const kind = chargeType === 'direct' ? 'direct' : 'destination';
  const missing = missingChargeCapability(account.configurations ?? {}, kind, onBehalfOf);
  if (missing) {
    throw new ServiceException(
      ErrorCode.ChargeTypeNotAllowed,
      `A ${chargeType} charge to tenant ${account.tenant_id} needs the ${missing} capability active`,
      { tenant_id: account.tenant_id, charge_type: chargeType, requires: missing },
    );
  }
}

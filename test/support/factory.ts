import { DataSource } from 'typeorm';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import type { TestApp } from '../utils/test-app';
import { uniqueTenant } from '../utils/test-app';
import { emulatorControl } from './emulator';

export interface ConnectedTenant {
  tenant: string;
  acct: string;
}

/**
 * A new tenant with an Express account made through the app's gateway, verified at the emulator and recorded
 * active (charges enabled) in connect_accounts. `columns` adds to or overrides the recorded row.
 */
export async function connectTenant(
  t: TestApp,
  opts: { prefix: string; emulatorUrl?: string; columns?: Partial<ConnectAccountEntity> },
): Promise<ConnectedTenant> {
  const tenant = uniqueTenant(opts.prefix);
  const account = await t.app.get(StripeGateway).createAccount({ type: 'express', country: 'US' });
  await emulatorControl(opts.emulatorUrl ?? t.emulatorUrl!, `accounts/${account.id}/verification`, {
    action: 'complete',
  });
  await t.app
    .get(DataSource)
    .getRepository(ConnectAccountEntity)
    .insert({
      tenant_id: tenant,
      stripe_account_id: account.id,
      status: ConnectAccountStatus.Active,
      charges_enabled: true,
      onboarding_method: OnboardingMethod.AccountLink,
      account_type: StripeAccountType.Express,
      ...opts.columns,
    });
  return { tenant, acct: account.id };
}

import { DataSource } from 'typeorm';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../utils/api';
import { eventually } from '../utils/eventually';
import { emulatorControl, TestApp, uniqueTenant } from '../utils/test-app';

/** A verified express account in the emulator and the tenant's ConnectAccount row. */
export async function connectVerifiedTenant(
  t: TestApp,
  prefix: string,
): Promise<{ tenant: string; acct: string }> {
  const tenant = uniqueTenant(prefix);
  const gateway = t.app.get(StripeGateway);
  const account = await gateway.createAccount({ type: 'express', country: 'US' });
  await emulatorControl(t.emulatorUrl!, `/accounts/${account.id}/verification`, { action: 'complete' });
  await t.app.get(DataSource).getRepository(ConnectAccountEntity).insert({
    tenant_id: tenant,
    stripe_account_id: account.id,
    status: ConnectAccountStatus.Active,
    charges_enabled: true,
    payouts_enabled: true,
    onboarding_method: OnboardingMethod.AccountLink,
    account_type: StripeAccountType.Express,
  });
  return { tenant, acct: account.id };
}

export const platformToken = (t: TestApp): string =>
  t.token({ sub: 'platform-backend', roles: ['platform'] });

/** A payment through the service, completed by its webhooks; answers our route and its charge. */
export async function paidRoute(
  t: TestApp,
  tenant: string,
  amount: number,
  chargeType: 'direct' | 'destination',
): Promise<{ id: string; charge: string }> {
  const res = await api(t)('POST', '/connect/payments', {
    token: platformToken(t),
    body: {
      tenant_id: tenant,
      payment_data: {
        amount,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        charge_type: chargeType,
      },
    },
  });
  if (res.status !== 201) throw new Error(`payment refused: ${res.status} ${res.raw}`);
  const id = res.body.id as string;
  return eventually(`payment ${id} completed`, async () => {
    const r = await api(t)('GET', `/connect/payments/${id}`, { token: platformToken(t) });
    return r.body.status === 'completed' && r.body.stripe_object_id
      ? { id, charge: r.body.stripe_object_id as string }
      : null;
  });
}

/** The emulator's available balance of an account (the platform when `account` is undefined), in usd. */
export async function availableUsd(t: TestApp, account?: string): Promise<number> {
  const b = await t.app.get(StripeGateway).money.retrieveBalance(account ? { stripeAccount: account } : {});
  return b.available.filter((x) => x.currency === 'usd').reduce((s, x) => s + x.amount, 0);
}

export async function eventTypes(
  t: TestApp,
  tenant: string,
): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const res = await api(t)('GET', `/connect/events?tenant_id=${tenant}&limit=100`, {
    token: platformToken(t),
  });
  return res.body.data as Array<{ type: string; data: Record<string, unknown> }>;
}

/** The emulator pays the account's balance out now (an automatic payout) and moves it up to `until`. */
export async function runPayouts(
  t: TestApp,
  account: string,
  until: 'in_transit' | 'paid' | 'reconciled',
): Promise<Array<{ id: string; amount: number }>> {
  const run = await emulatorControl<{ payouts: Array<{ id: string; amount: number }> }>(
    t.emulatorUrl!,
    `/accounts/${account}/payouts/run`,
    { until },
  );
  return run.payouts;
}

/**
 * Waits until every event Stripe emitted for the payout went through our inbox (settled, whatever the outcome),
 * so a test that then rewrites the payout's row is not overtaken by a late delivery.
 */
export async function payoutEventsSettled(t: TestApp, account: string, payoutId: string): Promise<void> {
  const { data } = await t.app.get(StripeGateway).listEvents({ stripeAccount: account, limit: 100 });
  const ids = data.filter((e) => (e.data.object as { id?: string }).id === payoutId).map((e) => e.id);
  await eventually(`the events of ${payoutId} settled`, async () => {
    const rows = (await t.app.get(DataSource).query(
      `SELECT count(*)::int AS n FROM stripe_webhook_events
          WHERE stripe_event_id = ANY($1) AND status NOT IN ('received', 'failed')`,
      [ids],
    )) as Array<{ n: number }>;
    return rows[0].n === ids.length;
  });
}

import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { eventually } from '../utils/eventually';
import { completedPayment, connectTenant, platformToken } from '../support/factory';

/** A verified express account in the emulator and the tenant's ConnectAccount row, payouts enabled. */
export const connectVerifiedTenant = (
  t: TestApp,
  prefix: string,
): Promise<{ tenant: string; acct: string }> =>
  connectTenant(t, { prefix, columns: { payouts_enabled: true } });

/** A payment through the service, completed by its webhooks; answers our route and its charge. */
export const paidRoute = (
  t: TestApp,
  tenant: string,
  amount: number,
  chargeType: 'direct' | 'destination',
): Promise<{ id: string; charge: string }> =>
  completedPayment(t, { tenant, amount, charge_type: chargeType });

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

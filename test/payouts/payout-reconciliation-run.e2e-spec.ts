import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { platformToken } from '../support/factory';
import { connectVerifiedTenant, paidRoute, payoutEventsSettled, runPayouts } from './money-support';

jest.setTimeout(180_000);

interface Run {
  id: string;
  status: string;
  totals: Record<string, number>;
  healed: number;
}
interface Item {
  category: string;
  status: string;
  stripe_object_id: string | null;
  local: Record<string, unknown>;
  stripe: Record<string, unknown>;
}
interface Payout {
  id: string;
  stripe_payout_id: string;
  status: string;
  reconciliation_status: string;
}

describe('reconciliation runs compare payouts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootTestApp({ BALANCE_CACHE_SECONDS: '0' }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
  });
  afterAll(async () => t?.close());

  const call = <T>(method: string, path: string, body?: unknown) =>
    api(t)<T>(method, path, { token: platformToken(t), body });

  async function reconcile(body: Record<string, unknown>): Promise<{ run: Run; items: Item[] }> {
    const start = await call<Run>('POST', '/connect/reconciliation/runs', body);
    expect(start.status).toBe(202);
    const run = await eventually(
      `run ${start.body.id}`,
      async () => {
        const r = await call<Run>('GET', `/connect/reconciliation/runs/${start.body.id}`);
        return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : null;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const items = await call<{ data: Item[] }>(
      'GET',
      `/connect/reconciliation/runs/${run.id}/items?limit=100`,
    );
    return { run, items: items.body.data };
  }

  const payoutsOf = async (tenant: string): Promise<Payout[]> =>
    (await call<{ data: Payout[] }>('GET', `/connect/accounts/${tenant}/payouts`)).body.data;

  it('lists a payout we lack and a stale status as items, heals both, and a second run finds nothing', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const { tenant, acct } = await connectVerifiedTenant(t, 'prr');
    await paidRoute(t, tenant, 6_000, 'direct');
    const first = { payouts: await runPayouts(t, acct, 'reconciled') };
    const ours = await eventually('the paid and reconciled payout', async () =>
      (await payoutsOf(tenant)).find((p) => p.reconciliation_status === 'completed' && p.status === 'paid'),
    );
    await payoutEventsSettled(t, acct, first.payouts[0].id);
    // Our row forgets the payout's last stages, as if those webhooks had been lost.
    await t.app
      .get(DataSource)
      .query(
        `UPDATE payouts SET status = 'in_transit', reconciliation_status = 'in_progress' WHERE id = $1`,
        [ours.id],
      );
    await paidRoute(t, tenant, 1_000, 'direct');
    await emulatorControl(t.emulatorUrl!, '/webhooks/pause');
    const missed = { payouts: await runPayouts(t, acct, 'paid') };
    await emulatorControl(t.emulatorUrl!, '/webhooks/resume', { discard: true });
    expect((await payoutsOf(tenant)).map((p) => p.stripe_payout_id)).not.toContain(missed.payouts[0].id);

    const window = {
      from,
      to: new Date(Date.now() + 1000).toISOString(),
      grace_seconds: 0,
      tenant_id: tenant,
    };
    const dry = await reconcile({ ...window, dry_run: true });
    expect(dry.run).toMatchObject({ status: 'completed' });
    const payoutItems = (items: Item[]) =>
      items
        .filter((i) => i.stripe.object === 'payout')
        .map((i) => [i.category, i.stripe_object_id, i.status, i.stripe.status])
        .sort();
    expect(payoutItems(dry.items)).toEqual(
      [
        ['payout_missing', missed.payouts[0].id, 'mismatched', 'paid'],
        ['payout_status', first.payouts[0].id, 'mismatched', 'paid'],
      ].sort(),
    );
    // A dry run heals nothing.
    expect((await payoutsOf(tenant)).find((p) => p.id === ours.id)?.status).toBe('in_transit');

    const live = await reconcile(window);
    expect(live.run).toMatchObject({ status: 'completed' });
    expect(payoutItems(live.items)).toEqual(
      [
        ['payout_missing', missed.payouts[0].id, 'healed', 'paid'],
        ['payout_status', first.payouts[0].id, 'healed', 'paid'],
      ].sort(),
    );
    expect(live.run.healed).toBeGreaterThanOrEqual(2);
    const after = await payoutsOf(tenant);
    expect(after.find((p) => p.id === ours.id)).toMatchObject({
      status: 'paid',
      reconciliation_status: 'completed',
    });
    expect(after.find((p) => p.stripe_payout_id === missed.payouts[0].id)).toMatchObject({ status: 'paid' });
    // Each payout's row now holds what the emulator holds.
    const atStripe = await t.app.get(StripeGateway).listPayouts({ limit: 100 }, { stripeAccount: acct });
    for (const p of atStripe.data) {
      expect(after.find((x) => x.stripe_payout_id === p.id)).toMatchObject({ status: p.status });
    }
    expect(atStripe.data.map((p) => p.id).sort()).toEqual([first.payouts[0].id, missed.payouts[0].id].sort());

    const again = await reconcile(window);
    expect(payoutItems(again.items).filter((i) => i[2] === 'mismatched')).toEqual([]);
  });

  it('an amount that differs is a payout_amount item left for someone to look at: our row is not touched', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const { tenant, acct } = await connectVerifiedTenant(t, 'pra');
    await paidRoute(t, tenant, 2_000, 'direct');
    const [paid] = await runPayouts(t, acct, 'reconciled');
    const ours = await eventually('the reconciled payout', async () =>
      (await payoutsOf(tenant)).find((p) => p.reconciliation_status === 'completed' && p.status === 'paid'),
    );
    await payoutEventsSettled(t, acct, paid.id);
    await t.app.get(DataSource).query(`UPDATE payouts SET amount = amount + 1 WHERE id = $1`, [ours.id]);
    const live = await reconcile({
      from,
      to: new Date(Date.now() + 1000).toISOString(),
      grace_seconds: 0,
      tenant_id: tenant,
    });
    expect(live.run).toMatchObject({ status: 'completed' });
    const items = live.items.filter((i) => i.stripe.object === 'payout');
    expect(items.map((i) => [i.category, i.stripe_object_id, i.status])).toEqual([
      ['payout_amount', paid.id, 'mismatched'],
    ]);
    expect(items[0].local).toMatchObject({ amount: paid.amount + 1 });
    expect(items[0].stripe).toMatchObject({ amount: paid.amount });
    const [row] = (await t.app
      .get(DataSource)
      .query(`SELECT amount::int AS amount FROM payouts WHERE id = $1`, [ours.id])) as Array<{
      amount: number;
    }>;
    expect(row.amount).toBe(paid.amount + 1);
  });
});

import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { platformToken } from '../support/factory';
import { availableUsd, connectVerifiedTenant, paidRoute, runPayouts } from './money-support';

jest.setTimeout(180_000);

interface Line {
  id: string;
  type: string;
  amount: number;
  fee: number;
  net: number;
  source: string | null;
  payment_id: string | null;
  refund_id: string | null;
  transfer_id: string | null;
  dispute_id: string | null;
}

describe("a payout's transactions lead back to our routes, destination charges included", () => {
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

  /**
   * Pays the account's balance out and reconciles it: our payout's transactions answer, checked line for line and
   * in its totals against what the emulator lists for the payout on the account.
   */
  async function paidOutLines(tenant: string, acct: string): Promise<Line[]> {
    const available = await availableUsd(t, acct);
    const [payout] = await runPayouts(t, acct, 'reconciled');
    expect(payout.amount).toBe(available);
    const ours = await eventually('the reconciled payout', async () => {
      const list = await call<{
        data: Array<{ id: string; stripe_payout_id: string; reconciliation_status: string }>;
      }>('GET', `/connect/accounts/${tenant}/payouts`);
      return list.body.data.find(
        (p) => p.stripe_payout_id === payout.id && p.reconciliation_status === 'completed',
      );
    });
    const res = await call<{
      data: Line[];
      totals: { gross: number; fees: number; net: number };
      sums_match: boolean;
    }>('GET', `/connect/payouts/${ours.id}/transactions`);
    expect(res.status).toBe(200);
    expect(res.body.sums_match).toBe(true);
    // Line for line what Stripe lists for the payout on the account.
    const stripe = await t.app
      .get(StripeGateway)
      .listBalanceTransactions({ payout: payout.id, limit: 100 }, { stripeAccount: acct });
    expect(res.body.data.map((l) => [l.id, l.type, l.amount, l.fee, l.net, l.source])).toEqual(
      stripe.data.map((s) => [s.id, s.type, s.amount, s.fee, s.net, s.source]),
    );
    const settled = stripe.data.filter((s) => s.type !== 'payout');
    expect(res.body.totals).toEqual({
      gross: settled.reduce((n, s) => n + s.amount, 0),
      fees: settled.reduce((n, s) => n + s.fee, 0),
      net: available,
    });
    return res.body.data;
  }

  it("joins the account's destination payment (py_) and its reversal's refund (pyr_) to our routes; sums match Stripe's", async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'pod');
    const destination = await paidRoute(t, tenant, 8_000, 'destination');
    const direct = await paidRoute(t, tenant, 3_000, 'direct');
    // A destination charge's refund reverses its transfer (the default): a `pyr_` on the account.
    const refund = await api(t)<{ id: string }>('POST', `/connect/payments/${destination.id}/refunds`, {
      token: platformToken(t),
      body: { amount: 2_000 },
    });
    expect(refund.status).toBe(201);
    await eventually(
      'the reversal on the balance',
      async () => (await availableUsd(t, acct)) < 11_000 - 2_000,
    );
    const lines = await paidOutLines(tenant, acct);

    const py = lines.find((l) => l.source?.startsWith('py_'));
    expect(py).toMatchObject({
      type: 'payment',
      amount: 8_000,
      payment_id: destination.id,
      transfer_id: null,
    });
    const charge = await t.app.get(StripeGateway).retrieveCharge(destination.charge);
    expect(py!.source).toBe(
      (await t.app.get(StripeGateway).retrieveTransfer(charge.transfer as string)).destination_payment,
    );
    const pyr = lines.find((l) => l.source?.startsWith('pyr_'));
    expect(pyr).toMatchObject({
      type: 'payment_refund',
      amount: -2_000,
      refund_id: refund.body.id,
      payment_id: null,
    });
    const ch = lines.find((l) => l.source === direct.charge);
    expect(ch).toMatchObject({ type: 'charge', amount: 3_000, payment_id: direct.id });
  });

  interface Dispute {
    id: string;
    stripe_dispute_id: string;
    charge_id: string | null;
    status: string;
    recovery: {
      status: string;
      reversed_amount: number;
      movements: Array<{ step: string; amount: number; stripe_id: string }>;
    };
  }

  const disputeOf = (tenant: string, charge: string, pred: (d: Dispute) => boolean, what: string) =>
    eventually(
      what,
      async () => {
        const list = await call<{ data: Dispute[] }>('GET', `/connect/disputes?tenant_id=${tenant}`);
        const d = list.body.data.find((x) => x.charge_id === charge);
        return d && pred(d) ? d : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  it("links dispute recovery's reversal and return transfer, and a direct charge's dispute, to our dispute; the reconciliation run finds them linked", async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const { tenant, acct } = await connectVerifiedTenant(t, 'pdd');
    const gateway = t.app.get(StripeGateway);
    const destination = await paidRoute(t, tenant, 10_000, 'destination');
    const direct = await paidRoute(t, tenant, 3_000, 'direct');
    // The platform's own sale, so its balance pays the dispute and the return transfer.
    await gateway.createPaymentIntent(
      { amount: 50_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey: `platform-sale-${tenant}` },
    );
    await emulatorControl(t.emulatorUrl!, `/charges/${destination.charge}/dispute`, {});
    const reversed = await disputeOf(
      tenant,
      destination.charge,
      (d) => d.recovery.status === 'reversed',
      'the recovery reversal',
    );
    // Disputed once the reversal is made: the tenant's own dispute debits the balance the reversal takes from.
    await emulatorControl(t.emulatorUrl!, `/charges/${direct.charge}/dispute`, {});
    const directDispute = await disputeOf(tenant, direct.charge, () => true, 'the direct dispute');
    await emulatorControl(t.emulatorUrl!, `/disputes/${reversed.stripe_dispute_id}/close`, {
      outcome: 'won',
    });
    const returned = await disputeOf(
      tenant,
      destination.charge,
      (d) => d.recovery.status === 'returned',
      'the amount given back',
    );
    const recovered = reversed.recovery.reversed_amount;
    expect(recovered).toBeGreaterThan(0);

    const lines = await paidOutLines(tenant, acct);

    // The recovery's reversal: the `pyr_` of the destination payment whose transfer reversal it recorded.
    const [reverse, giveBack] = returned.recovery.movements;
    const transfer = await gateway.retrieveTransfer(
      (await gateway.retrieveCharge(destination.charge)).transfer as string,
    );
    const reversal = (await gateway.listTransferReversals(transfer.id, { limit: 100 })).data.find(
      (r) => r.id === reverse.stripe_id,
    );
    const pyr = lines.find((l) => l.source === reversal?.destination_payment_refund);
    expect(pyr).toMatchObject({
      type: 'payment_refund',
      amount: -recovered,
      dispute_id: reversed.id,
      refund_id: null,
      payment_id: null,
    });
    // The return transfer once won: the account's `py_` of that transfer.
    const back = await gateway.retrieveTransfer(giveBack.stripe_id);
    expect(lines.find((l) => l.source === back.destination_payment)).toMatchObject({
      type: 'payment',
      amount: recovered,
      dispute_id: reversed.id,
      payment_id: null,
    });
    // The original destination payment still leads to our payment; the direct charge's dispute to our dispute.
    expect(lines.find((l) => l.source === transfer.destination_payment)).toMatchObject({
      type: 'payment',
      amount: 10_000,
      payment_id: destination.id,
      dispute_id: null,
    });
    const directLines = lines.filter((l) => l.source === directDispute.stripe_dispute_id);
    expect(directLines.length).toBeGreaterThan(0);
    for (const l of directLines) expect(l).toMatchObject({ dispute_id: directDispute.id });
    const unlinked = lines.filter(
      (l) => l.type !== 'payout' && !l.payment_id && !l.refund_id && !l.transfer_id && !l.dispute_id,
    );
    expect(unlinked).toEqual([]);

    // Without the movements on our row (a recovery that reached Stripe but not our row), the metadata leads there.
    await t.app
      .get(DataSource)
      .query(`UPDATE disputes SET recovery = jsonb_set(recovery, '{movements}', '[]') WHERE id = $1`, [
        reversed.id,
      ]);
    const [ours] = (await call<{ data: Array<{ id: string }> }>('GET', `/connect/accounts/${tenant}/payouts`))
      .body.data;
    const again = await call<{ data: Line[] }>('GET', `/connect/payouts/${ours.id}/transactions`);
    expect(again.body.data.map((l) => [l.id, l.dispute_id])).toEqual(lines.map((l) => [l.id, l.dispute_id]));

    // The reconciliation sweep reads the same join: no payout line is left unlinked.
    const start = await call<{ id: string }>('POST', '/connect/reconciliation/runs', {
      from,
      to: new Date(Date.now() + 1000).toISOString(),
      grace_seconds: 0,
      tenant_id: tenant,
      dry_run: true,
    });
    expect(start.status).toBe(202);
    const run = await eventually(
      `run ${start.body.id}`,
      async () => {
        const r = await call<{ id: string; status: string }>(
          'GET',
          `/connect/reconciliation/runs/${start.body.id}`,
        );
        return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : null;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(run.status).toBe('completed');
    const items = await call<{ data: Array<{ category: string; stripe_object_id: string | null }> }>(
      'GET',
      `/connect/reconciliation/runs/${run.id}/items?limit=100`,
    );
    expect(items.body.data.filter((i) => i.category === 'payout_unlinked')).toEqual([]);
  });
});

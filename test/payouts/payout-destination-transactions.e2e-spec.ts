import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
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

  const call = <T>(method: string, path: string) => api(t)<T>(method, path, { token: platformToken(t) });

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
    }>('GET', `/connect/payouts/${ours!.id}/transactions`);
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

    const py = res.body.data.find((l) => l.source?.startsWith('py_'));
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
    const pyr = res.body.data.find((l) => l.source?.startsWith('pyr_'));
    expect(pyr).toMatchObject({
      type: 'payment_refund',
      amount: -2_000,
      refund_id: refund.body.id,
      payment_id: null,
    });
    const ch = res.body.data.find((l) => l.source === direct.charge);
    expect(ch).toMatchObject({ type: 'charge', amount: 3_000, payment_id: direct.id });
  });
});

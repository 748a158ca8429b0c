import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

/** Automatic payouts of a connected account and payout reconciliation, through the real stripe SDK. */
describe('Stripe emulator payouts', () => {
  const h = useEmulator('sk_test_payouts');
  const control = h.control;
  const verifiedAccount = h.verifiedAccount;
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  const runPayouts = async (account: string, until?: string): Promise<Stripe.Payout[]> => {
    const answer = await control('POST', `/accounts/${account}/payouts/run`, until ? { until } : {});
    expect(answer.status).toBe(200);
    return answer.payouts as Stripe.Payout[];
  };
  const card = { payment_method: 'pm_card_visa', confirm: true };
  let acct: string;
  let opts: Stripe.RequestOptions;

  beforeEach(async () => {
    acct = await verifiedAccount();
    opts = { stripeAccount: acct };
  });

  it('pays out the available balance, lists its balance transactions by payout once reconciled', async () => {
    // Money reaches the account three ways: a direct charge, a destination charge, a separate transfer.
    await stripe.paymentIntents.create(
      { amount: 4000, currency: 'usd', application_fee_amount: 400, ...card },
      opts,
    );
    await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      application_fee_amount: 300,
      transfer_data: { destination: acct },
      ...card,
    });
    const sct = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      transfer_group: 'g',
      ...card,
    });
    await stripe.transfers.create({
      amount: 1500,
      currency: 'usd',
      destination: acct,
      source_transaction: sct.latest_charge as string,
    });
    const before: Stripe.BalanceTransaction[] = (await stripe.balanceTransactions.list({ limit: 100 }, opts))
      .data;
    const expected = before.reduce((s, t) => s + t.net, 0);
    expect(before).toHaveLength(3);

    const [payout] = await runPayouts(acct, 'paid');
    expect(payout).toMatchObject({
      object: 'payout',
      amount: expected,
      currency: 'usd',
      automatic: true,
      status: 'paid',
      reconciliation_status: 'in_progress',
      method: 'standard',
      type: 'bank_account',
    });
    expect(payout.arrival_date).toBeGreaterThan(payout.created);
    const notReady = await stripe.balanceTransactions
      .list({ payout: payout.id }, opts)
      .catch((e: unknown) => e);
    expect(notReady).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(notReady).toMatchObject({ statusCode: 400, code: 'payout_reconciliation_not_ready' });

    await control('POST', `/payouts/${payout.id}/advance`, { to: 'reconciled' });
    expect((await stripe.payouts.retrieve(payout.id, {}, opts)).reconciliation_status).toBe('completed');
    const carried = (await stripe.balanceTransactions.list({ payout: payout.id, limit: 100 }, opts)).data;
    const own = carried.find((t) => t.type === 'payout') as Stripe.BalanceTransaction;
    expect(own).toMatchObject({ amount: -expected, reporting_category: 'payout', source: payout.id });
    expect(own.id).toBe(payout.balance_transaction);
    const others = carried.filter((t) => t.type !== 'payout');
    expect(others.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    expect(others.reduce((s, t) => s + t.net, 0)).toBe(payout.amount);
    expect((await stripe.balance.retrieve({}, opts)).available[0].amount).toBe(0);

    // payout → its py_ payment → source_transfer → the transfer's source charge on the platform.
    const py = others.find((t) => t.type === 'payment' && t.fee === 0) as Stripe.BalanceTransaction;
    const payment = await stripe.charges.retrieve(py.source as string, {}, opts);
    const transfer = await stripe.transfers.retrieve(payment.source_transfer as string);
    expect(transfer.source_transaction).toBe(sct.latest_charge);

    const types = (await stripe.events.list({ limit: 100 }, opts)).data
      .filter((e) => e.type.startsWith('payout.'))
      .map((e) => e.type)
      .reverse();
    expect(types).toEqual([
      'payout.created',
      'payout.updated',
      'payout.updated',
      'payout.paid',
      'payout.reconciliation_completed',
    ]);

    // A second run has nothing new; a new charge makes a second payout carrying only it.
    expect(await runPayouts(acct)).toEqual([]);
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card }, opts);
    const [second] = await runPayouts(acct);
    expect(second).toMatchObject({ status: 'paid', reconciliation_status: 'completed', amount: 1000 - 59 });
    const secondTxns = (await stripe.balanceTransactions.list({ payout: second.id }, opts)).data;
    expect(secondTxns.map((t) => t.type).sort()).toEqual(['charge', 'payout']);

    // Filters: status, created, arrival_date; the platform sees none of the account's payouts.
    expect((await stripe.payouts.list({ status: 'paid' }, opts)).data).toHaveLength(2);
    expect((await stripe.payouts.list({ status: 'in_transit' }, opts)).data).toHaveLength(0);
    expect(
      (await stripe.payouts.list({ arrival_date: { gte: payout.arrival_date } }, opts)).data,
    ).toHaveLength(2);
    expect((await stripe.payouts.list({ created: { lt: payout.created } }, opts)).data).toHaveLength(0);
    expect((await stripe.payouts.list()).data).toHaveLength(0);
    const unknown = await stripe.balanceTransactions
      .list({ payout: 'po_unknown' }, opts)
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('fails a payout: payout.failed, the money comes back with a payout_failure transaction', async () => {
    await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', ...card }, opts);
    const [payout] = await runPayouts(acct, 'in_transit');
    expect(payout.status).toBe('in_transit');
    const failed = await control('POST', `/payouts/${payout.id}/advance`, {
      to: 'failed',
      failure_code: 'account_closed',
    });
    expect(failed).toMatchObject({ status: 'failed', failure_code: 'account_closed' });
    const back = await stripe.balanceTransactions.retrieve(
      failed.failure_balance_transaction as string,
      {},
      opts,
    );
    expect(back).toMatchObject({
      amount: payout.amount,
      type: 'payout_failure',
      reporting_category: 'payout_reversal',
    });
    expect((await stripe.balance.retrieve({}, opts)).available[0].amount).toBe(payout.amount);
    expect((await stripe.events.list({ type: 'payout.failed' }, opts)).data).toHaveLength(1);
    expect(await control('POST', `/payouts/${payout.id}/advance`, { to: 'paid' })).toMatchObject({
      status: 400,
    });
  });

  it('does not pay out an account whose payouts are disabled, nor pending funds', async () => {
    await control('POST', '/settings', { available_delay_seconds: 172_800 });
    await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', ...card }, opts);
    expect(await runPayouts(acct)).toEqual([]);
    await control('POST', `/accounts/${acct}/capabilities`, { transfers: 'inactive' });
    expect(await control('POST', `/accounts/${acct}/payouts/run`, {})).toMatchObject({ status: 400 });
    expect(await control('POST', `/accounts/${acct}/payouts/run`, { until: 'soon' })).toMatchObject({
      status: 400,
    });
  });
});

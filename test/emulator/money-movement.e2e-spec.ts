import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

/**
 * Separate charges and transfers, reversals, application fee refunds and the balance transactions every
 * movement leaves, through the real stripe SDK.
 */
describe('Stripe emulator money movement', () => {
  const h = useEmulator('sk_test_money');
  const control = h.control;
  const verifiedAccount = h.verifiedAccount;
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  /** The documented fee rule: 2.9 % rounded half up, plus 30 minor units. */
  const stripeFee = (amount: number): number => Math.floor((amount * 29 + 500) / 1000) + 30;
  const card = { payment_method: 'pm_card_visa', confirm: true };
  const txnsOf = async (stripeAccount?: string): Promise<Stripe.BalanceTransaction[]> => {
    const out: Stripe.BalanceTransaction[] = [];
    for await (const t of stripe.balanceTransactions.list(
      { limit: 100 },
      stripeAccount ? { stripeAccount } : {},
    ))
      out.push(t);
    return out;
  };
  const bySource = (txns: Stripe.BalanceTransaction[], source: string) =>
    txns.filter((t) => t.source === source);

  it('splits one charge into three transfers of one transfer_group, then reverses them after a refund', async () => {
    const [a, b, c] = [await verifiedAccount(), await verifiedAccount(), await verifiedAccount()];
    const pi = await stripe.paymentIntents.create({
      amount: 10_000,
      currency: 'usd',
      transfer_group: 'order-1',
      ...card,
    });
    const chargeId = pi.latest_charge as string;
    const charge = await stripe.charges.retrieve(chargeId);
    expect(charge.transfer_group).toBe('order-1');

    const shares: [string, number][] = [
      [a, 5000],
      [b, 3000],
      [c, 1500],
    ];
    const transfers: Stripe.Transfer[] = [];
    for (const [destination, amount] of shares) {
      transfers.push(
        await stripe.transfers.create({
          amount,
          currency: 'usd',
          destination,
          transfer_group: 'order-1',
          source_transaction: chargeId,
          metadata: { share: String(amount) },
        }),
      );
    }
    expect(transfers.map((t) => [t.destination, t.amount, t.source_transaction, t.transfer_group])).toEqual(
      shares.map(([d, amt]) => [d, amt, chargeId, 'order-1']),
    );
    const grouped = await stripe.transfers.list({ transfer_group: 'order-1' });
    expect(grouped.data.map((t) => t.id).sort()).toEqual(transfers.map((t) => t.id).sort());
    expect((await stripe.transfers.list({ destination: b })).data.map((t) => t.id)).toEqual([
      transfers[1].id,
    ]);

    // The sum stays within the charge, the currency must match, and the source is a charge, not the intent.
    const over = await stripe.transfers
      .create({ amount: 501, currency: 'usd', destination: c, source_transaction: chargeId })
      .catch((e: unknown) => e);
    expect(over).toMatchObject({ statusCode: 400, param: 'amount' });
    const eur = await stripe.transfers
      .create({ amount: 100, currency: 'eur', destination: c, source_transaction: chargeId })
      .catch((e: unknown) => e);
    expect(eur).toMatchObject({ statusCode: 400, param: 'currency' });
    const byIntent = await stripe.transfers
      .create({ amount: 100, currency: 'usd', destination: c, source_transaction: pi.id })
      .catch((e: unknown) => e);
    expect(byIntent).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'source_transaction',
    });

    // Each destination received a py_ payment tied to its transfer, with its own balance transaction.
    for (const t of transfers) {
      const opts = { stripeAccount: t.destination as string };
      const payment = await stripe.charges.retrieve(t.destination_payment as string, {}, opts);
      expect(payment).toMatchObject({ amount: t.amount, source_transfer: t.id, status: 'succeeded' });
      const txn = await stripe.balanceTransactions.retrieve(payment.balance_transaction as string, {}, opts);
      expect(txn).toMatchObject({
        amount: t.amount,
        fee: 0,
        net: t.amount,
        type: 'payment',
        reporting_category: 'charge',
        source: payment.id,
      });
    }

    // Refund first (the platform's balance), then reverse each transfer in proportion (40 %).
    await stripe.refunds.create({ charge: chargeId, amount: 4000 });
    const reversals: Stripe.TransferReversal[] = [];
    for (const t of transfers) {
      reversals.push(await stripe.transfers.createReversal(t.id, { amount: (t.amount * 40) / 100 }));
    }
    expect(reversals.map((r) => r.amount)).toEqual([2000, 1200, 600]);
    const rest = await stripe.transfers.createReversal(transfers[0].id, { metadata: { why: 'rest' } });
    expect(rest.amount).toBe(3000);
    const again = await stripe.transfers
      .createReversal(transfers[0].id, { amount: 1 })
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ statusCode: 400 });
    const tooMuch = await stripe.transfers
      .createReversal(transfers[1].id, { amount: 1801 })
      .catch((e: unknown) => e);
    expect(tooMuch).toMatchObject({ statusCode: 400, param: 'amount' });

    const first = await stripe.transfers.retrieve(transfers[0].id);
    expect(first).toMatchObject({ amount_reversed: 5000, reversed: true });
    const listed = await stripe.transfers.listReversals(transfers[0].id);
    expect(listed.data.map((r) => r.id)).toEqual([rest.id, reversals[0].id]);
    expect(await stripe.transfers.retrieveReversal(transfers[0].id, rest.id)).toMatchObject({
      amount: 3000,
      transfer: transfers[0].id,
      metadata: { why: 'rest' },
    });
    // On the platform a reversal is transfer_reversal; on the account the py_ is refunded (payment_refund).
    const platform = await txnsOf();
    expect(bySource(platform, reversals[1].id)[0]).toMatchObject({
      amount: 1200,
      type: 'transfer_refund',
      reporting_category: 'transfer_reversal',
    });
    const onB = await txnsOf(b);
    const pyr = reversals[1].destination_payment_refund as string;
    expect(bySource(onB, pyr)[0]).toMatchObject({
      amount: -1200,
      type: 'payment_refund',
      reporting_category: 'refund',
    });
    expect(onB.reduce((s, t) => s + t.net, 0)).toBe(1800);

    const types = (await stripe.events.list({ limit: 100 })).data.map((e) => e.type);
    expect(types.filter((t) => t === 'transfer.created')).toHaveLength(3);
    expect(types.filter((t) => t === 'transfer.reversed')).toHaveLength(4);
  });

  it('updates only description and metadata, with transfer.updated', async () => {
    const a = await verifiedAccount();
    await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', ...card });
    const t = await stripe.transfers.create({ amount: 1000, currency: 'usd', destination: a });
    expect(t.source_transaction).toBeNull();
    const updated = await stripe.transfers.update(t.id, {
      description: 'payout share',
      metadata: { k: 'v' },
    });
    expect(updated).toMatchObject({ description: 'payout share', metadata: { k: 'v' }, amount: 1000 });
    const [event] = (await stripe.events.list({ type: 'transfer.updated' })).data;
    expect(event.data.previous_attributes).toEqual({ description: null, metadata: {} });
  });

  it('needs the available balance without source_transaction (balance_insufficient) and active transfers', async () => {
    const a = await verifiedAccount();
    await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', ...card });
    const balance = await stripe.balance.retrieve();
    const available = balance.available.find((x) => x.currency === 'usd')?.amount as number;
    expect(available).toBe(2000 - stripeFee(2000));
    const short = await stripe.transfers
      .create({ amount: available + 1, currency: 'usd', destination: a })
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(short).toMatchObject({ statusCode: 400, code: 'balance_insufficient' });
    expect(
      (await stripe.transfers.create({ amount: available, currency: 'usd', destination: a })).amount,
    ).toBe(available);
    await control('POST', '/settings', { linked_capabilities: false });
    await control('POST', `/accounts/${a}/capabilities`, { transfers: 'inactive' });
    const refused = await stripe.transfers
      .create({ amount: 100, currency: 'usd', destination: a })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      statusCode: 400,
      code: 'insufficient_capabilities_for_transfer',
      param: 'destination',
    });
    // Funds pending until available_on: a delayed charge does not count, pm_card_bypassPending does.
    await control('POST', '/settings', { available_delay_seconds: 172_800 });
    await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', ...card });
    const later = await stripe.balance.retrieve();
    expect(later.available[0].amount).toBe(0);
    expect(later.pending[0].amount).toBe(3000 - stripeFee(3000));
    await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      ...card,
      payment_method: 'pm_card_bypassPending',
    });
    expect((await stripe.balance.retrieve()).available[0].amount).toBe(3000 - stripeFee(3000));
  });

  it('records every movement as a balance transaction with its category, on the right account', async () => {
    const direct = await verifiedAccount();
    const dest = await verifiedAccount();
    // Direct charge: the account pays Stripe's fee and the application fee.
    const dpi = await stripe.paymentIntents.create(
      { amount: 10_000, currency: 'usd', application_fee_amount: 1000, ...card },
      { stripeAccount: direct },
    );
    const dCharge = await stripe.charges.retrieve(dpi.latest_charge as string, {}, { stripeAccount: direct });
    const dTxn = await stripe.balanceTransactions.retrieve(
      dCharge.balance_transaction as string,
      {},
      { stripeAccount: direct },
    );
    expect(dTxn).toMatchObject({
      amount: 10_000,
      fee: stripeFee(10_000) + 1000,
      net: 10_000 - stripeFee(10_000) - 1000,
      currency: 'usd',
      type: 'charge',
      reporting_category: 'charge',
      source: dCharge.id,
      status: 'available',
    });
    expect(dTxn.fee_details.map((d) => [d.type, d.amount])).toEqual([
      ['stripe_fee', stripeFee(10_000)],
      ['application_fee', 1000],
    ]);
    const dFee = await stripe.applicationFees.retrieve(dCharge.application_fee as string);
    expect(dFee).toMatchObject({ account: direct, charge: dCharge.id, originating_transaction: null });

    // Destination charge: the whole amount goes to the account, whose payment pays the application fee.
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      application_fee_amount: 200,
      transfer_data: { destination: dest },
      ...card,
    });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(pi.transfer_group).toBe(`group_${pi.id}`);
    const transfer = await stripe.transfers.retrieve(charge.transfer as string);
    expect(transfer).toMatchObject({ amount: 2000, destination: dest, source_transaction: charge.id });
    const fee = await stripe.applicationFees.retrieve(charge.application_fee as string);
    expect(fee).toMatchObject({
      amount: 200,
      account: dest,
      charge: transfer.destination_payment,
      originating_transaction: charge.id,
    });
    await stripe.refunds.create({
      payment_intent: pi.id,
      amount: 1000,
      reverse_transfer: true,
      refund_application_fee: true,
    });
    // A fee refund of its own through the fee refunds endpoint.
    const fr = await stripe.applicationFees.createRefund(dFee.id, {
      amount: 250,
      metadata: { why: 'goodwill' },
    });
    expect(fr).toMatchObject({ object: 'fee_refund', amount: 250, fee: dFee.id });
    expect((await stripe.applicationFees.listRefunds(dFee.id)).data.map((r) => r.id)).toEqual([fr.id]);
    expect(await stripe.applicationFees.retrieveRefund(dFee.id, fr.id)).toMatchObject({ amount: 250 });
    const overFee = await stripe.applicationFees
      .createRefund(dFee.id, { amount: 751 })
      .catch((e: unknown) => e);
    expect(overFee).toMatchObject({ statusCode: 400, param: 'amount' });
    expect(await stripe.applicationFees.retrieve(dFee.id)).toMatchObject({
      amount_refunded: 250,
      refunded: false,
    });

    const platform = await txnsOf();
    const cat = (txns: Stripe.BalanceTransaction[]) =>
      txns.map((t) => [t.reporting_category, t.type, t.amount, t.fee]).sort();
    expect(cat(platform)).toEqual(
      [
        ['charge', 'charge', 2000, stripeFee(2000)],
        ['platform_earning', 'application_fee', 1000, 0],
        ['platform_earning', 'application_fee', 200, 0],
        ['platform_earning_refund', 'application_fee_refund', -100, 0],
        ['platform_earning_refund', 'application_fee_refund', -250, 0],
        ['refund', 'refund', -1000, 0],
        ['transfer', 'transfer', -2000, 0],
        ['transfer_reversal', 'transfer_refund', 1000, 0],
      ].sort(),
    );
    const onDest = await txnsOf(dest);
    expect(cat(onDest)).toEqual(
      [
        ['charge', 'payment', 2000, 200],
        ['fee', 'application_fee_refund', 100, 0],
        ['refund', 'payment_refund', -1000, 0],
      ].sort(),
    );
    for (const t of [...platform, ...onDest, ...(await txnsOf(direct))]) {
      expect(t.net).toBe(t.amount - t.fee);
      expect(t.fee).toBe(t.fee_details.reduce((s, d) => s + d.amount, 0));
      expect(t.available_on).toBeGreaterThanOrEqual(t.created);
    }
    // The platform keeps its fee less Stripe's and what it gave back; the account the rest.
    expect(platform.reduce((s, t) => s + t.net, 0)).toBe(
      1000 + 200 - stripeFee(2000) - 100 - 250 - 1000 + 1000 - 2000 + 2000,
    );
    expect(onDest.reduce((s, t) => s + t.net, 0)).toBe(2000 - 200 - 1000 + 100);

    // Filters: type, source, currency, created.
    expect((await stripe.balanceTransactions.list({ type: 'transfer' })).data).toHaveLength(1);
    expect((await stripe.balanceTransactions.list({ source: charge.id })).data).toHaveLength(1);
    expect((await stripe.balanceTransactions.list({ currency: 'eur' })).data).toHaveLength(0);
    const created = platform[0].created;
    expect(
      (await stripe.balanceTransactions.list({ created: { gt: created }, limit: 100 })).data,
    ).toHaveLength(0);
    expect(
      (await stripe.balanceTransactions.list({ created: { lte: created }, limit: 100 })).data,
    ).toHaveLength(platform.length);
  });

  it("pays a subscription's first invoice with a charge and its balance transactions", async () => {
    const acct = await verifiedAccount();
    const opts = { stripeAccount: acct };
    const customer = await stripe.customers.create({ email: 's@x.test' }, opts);
    const price = await stripe.prices.create(
      {
        unit_amount: 1500,
        currency: 'usd',
        recurring: { interval: 'month' },
        product_data: { name: 'Plan' },
      },
      opts,
    );
    const sub = await stripe.subscriptions.create(
      { customer: customer.id, items: [{ price: price.id }], application_fee_percent: 10 },
      opts,
    );
    const invoice = (await stripe.invoices.retrieve(sub.latest_invoice as string, {}, opts)) as unknown as {
      charge: string;
      payment_intent: string;
    };
    const pi = await stripe.paymentIntents.retrieve(invoice.payment_intent, {}, opts);
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1500, application_fee_amount: 150 });
    const charge = await stripe.charges.retrieve(invoice.charge, {}, opts);
    const txn = await stripe.balanceTransactions.retrieve(charge.balance_transaction as string, {}, opts);
    expect(txn).toMatchObject({ amount: 1500, fee: stripeFee(1500) + 150, type: 'charge' });
    expect((await stripe.applicationFees.retrieve(charge.application_fee as string)).amount).toBe(150);

    // On the platform with transfer_data[amount_percent]: the account receives that share.
    const platformCustomer = await stripe.customers.create({ email: 'p@x.test' });
    const platformPrice = await stripe.prices.create({
      unit_amount: 2000,
      currency: 'usd',
      recurring: { interval: 'month' },
      product_data: { name: 'Plan' },
    });
    const platformSub = await stripe.subscriptions.create({
      customer: platformCustomer.id,
      items: [{ price: platformPrice.id }],
      transfer_data: { destination: acct, amount_percent: 80 },
    });
    const platformInvoice = (await stripe.invoices.retrieve(
      platformSub.latest_invoice as string,
    )) as unknown as { charge: string };
    const platformCharge = await stripe.charges.retrieve(platformInvoice.charge);
    expect((await stripe.transfers.retrieve(platformCharge.transfer as string)).amount).toBe(1600);
  });
});

import { ErrorCode, ServiceException } from '@app/common';
import { StripeSdkGateway } from '@app/stripe-gateway';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { emulatorControl } from '../support/emulator';

/**
 * The gateway's transfer, reversal, fee refund, payout and reporting methods through the real SDK against
 * the emulator: the calls the routing and reconciliation modules make.
 */
describe('StripeSdkGateway money movement (against the emulator)', () => {
  let emulator: RunningEmulator;
  let gateway: StripeSdkGateway;

  const control = (path: string, body: unknown = {}): Promise<Record<string, unknown>> =>
    emulatorControl(emulator.url, path, body);
  const connected = async (): Promise<string> => {
    const account = await gateway.createAccount({ type: 'express', country: 'US' });
    await control(`/accounts/${account.id}/verification`, { action: 'complete' });
    return account.id;
  };
  const card = { payment_method: 'pm_card_visa', confirm: true } as const;

  beforeAll(async () => {
    emulator = await startStripeEmulator({ port: 0, logger: () => undefined });
    gateway = new StripeSdkGateway(
      { secretKey: 'sk_test_gateway_money', apiBase: emulator.url, emulated: true },
      { timeoutMs: 2000, retry: { maxRetries: 1, initialDelayMs: 10, maxDelayMs: 20 } },
    );
  });
  afterAll(() => emulator?.close());
  beforeEach(() => control('/reset'));

  it('creates, reads, updates and reverses transfers of a separate charge', async () => {
    const [a, b] = [await connected(), await connected()];
    const pi = await gateway.createPaymentIntent(
      { amount: 6000, currency: 'usd', transfer_group: 'cart-9', ...card },
      { idempotencyKey: 'pr-9' },
    );
    const chargeId = pi.latest_charge as string;
    const charge = await gateway.retrieveCharge(chargeId);
    expect(charge.transfer_group).toBe('cart-9');
    expect((await gateway.listCharges({ transfer_group: 'cart-9' })).data.map((c) => c.id)).toEqual([
      chargeId,
    ]);

    const share = (destination: string, amount: number) => ({
      amount,
      currency: 'usd',
      destination,
      transfer_group: 'cart-9',
      source_transaction: chargeId,
    });
    const ta = await gateway.createTransfer(share(a, 4000), { idempotencyKey: 'pr-9-a' });
    const again = await gateway.createTransfer(share(a, 4000), { idempotencyKey: 'pr-9-a' });
    expect(again.id).toBe(ta.id);
    const tb = await gateway.createTransfer(share(b, 2000), { idempotencyKey: 'pr-9-b' });
    expect((await gateway.retrieveTransfer(tb.id)).amount).toBe(2000);
    expect((await gateway.updateTransfer(ta.id, { metadata: { route: 'pr-9' } })).metadata).toEqual({
      route: 'pr-9',
    });
    const grouped = await gateway.listTransfers({ transfer_group: 'cart-9' });
    expect(grouped.data.map((t) => t.id).sort()).toEqual([ta.id, tb.id].sort());

    const refund = await gateway.createRefund({ charge: chargeId, amount: 3000 }, { idempotencyKey: 'rf-9' });
    expect((await gateway.listRefunds({ charge: chargeId })).data.map((r) => r.id)).toEqual([refund.id]);
    const ra = await gateway.createTransferReversal(ta.id, { amount: 2000 }, { idempotencyKey: 'rv-9-a' });
    const rb = await gateway.createTransferReversal(tb.id, {}, { idempotencyKey: 'rv-9-b' });
    expect([ra.amount, rb.amount]).toEqual([2000, 2000]);
    expect((await gateway.listTransferReversals(ta.id)).data.map((r) => r.id)).toEqual([ra.id]);

    // A refused transfer is a StripeRequestFailed ServiceException carrying Stripe's code.
    const over = await gateway
      .createTransfer(
        { amount: 1, currency: 'usd', destination: b, source_transaction: chargeId },
        { idempotencyKey: 'pr-9-c' },
      )
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(ServiceException);
    expect((over as ServiceException).code).toBe(ErrorCode.StripeRequestFailed);
    await control('/settings', { linked_capabilities: false });
    await control(`/accounts/${b}/capabilities`, { transfers: 'inactive' });
    const refused = (await gateway
      .createTransfer({ amount: 1, currency: 'usd', destination: b }, { idempotencyKey: 'pr-9-d' })
      .catch((e: unknown) => e)) as ServiceException;
    expect(refused.details).toMatchObject({
      stripe: { type: 'invalid_request_error', code: 'insufficient_capabilities_for_transfer', status: 400 },
    });
  });

  it('refunds application fees, lists payouts and the balance transactions a payout carried', async () => {
    const acct = await connected();
    const pi = await gateway.createPaymentIntent(
      { amount: 5000, currency: 'usd', application_fee_amount: 500, ...card },
      { stripeAccount: acct, idempotencyKey: 'direct-1' },
    );
    const charge = await gateway.retrieveCharge(pi.latest_charge as string, { stripeAccount: acct });
    const feeId = charge.application_fee as string;
    const fr = await gateway.createApplicationFeeRefund(feeId, { amount: 100 }, { idempotencyKey: 'fr-1' });
    expect(fr).toMatchObject({ object: 'fee_refund', amount: 100, fee: feeId });
    expect((await gateway.listApplicationFeeRefunds(feeId)).data.map((r) => r.id)).toEqual([fr.id]);

    const ran = (await control(`/accounts/${acct}/payouts/run`, { until: 'paid' })).payouts as {
      id: string;
    }[];
    const payouts = await gateway.listPayouts({ status: 'paid' }, { stripeAccount: acct });
    expect(payouts.data.map((p) => p.id)).toEqual([ran[0].id]);
    const payout = await gateway.retrievePayout(ran[0].id, { stripeAccount: acct });
    const notReady = (await gateway
      .listBalanceTransactions({ payout: payout.id }, { stripeAccount: acct })
      .catch((e: unknown) => e)) as ServiceException;
    expect(notReady.details).toMatchObject({ stripe: { code: 'payout_reconciliation_not_ready' } });

    await control(`/payouts/${payout.id}/advance`, { to: 'reconciled' });
    const carried: string[] = [];
    for await (const t of gateway.iterateList((startingAfter) =>
      gateway.listBalanceTransactions(
        { payout: payout.id, limit: 1, starting_after: startingAfter },
        { stripeAccount: acct },
      ),
    )) {
      carried.push(t.type);
    }
    expect(carried.sort()).toEqual(['application_fee_refund', 'charge', 'payout']);
    const own = await gateway.retrieveBalanceTransaction(payout.balance_transaction as string, {
      stripeAccount: acct,
    });
    expect(own).toMatchObject({ amount: -payout.amount, reporting_category: 'payout' });
  });
});

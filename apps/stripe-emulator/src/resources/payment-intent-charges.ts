import { emitEvent, RequestContext } from '../context';
import { StripeApiError } from '../errors';
import { newId, nowSeconds } from '../ids';
import { processingFee } from '../money';
import { StripeObject } from '../store';
import { applicationFeeDetail, recordBalanceTransaction, stripeFeeDetail } from './balance.resource';
import { chargeObject } from './charge-object';
import { listOf } from './crud-helpers';
import { makeTransfer } from './transfers.resource';

/**
 * The charge a PaymentIntent makes (or the card error it meets), and the money movement once it is captured.
 * Test payment methods: https://docs.stripe.com/testing#cards and #declined-payments
 */
export const DECLINES: Record<string, { code: string; decline_code: string; message: string }> = {
  pm_card_chargeDeclined: {
    code: 'card_declined',
    decline_code: 'generic_decline',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedFraudulent: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedExpiredCard: {
    code: 'expired_card',
    decline_code: 'expired_card',
    message: 'Your card has expired.',
  },
};
export const NEEDS_ACTION = [
  'pm_card_authenticationRequired',
  'pm_card_threeDSecure2Required',
  'pm_card_threeDSecureRequired',
];

export function cardDetails(pm: string): Record<string, unknown> {
  const brand = pm.includes('mastercard') ? 'mastercard' : pm.includes('amex') ? 'amex' : 'visa';
  return {
    card: {
      brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      fingerprint: 'emulatorFinger01',
      funding: 'credit',
      last4: DECLINES[pm] ? '0002' : NEEDS_ACTION.includes(pm) ? '3184' : brand === 'amex' ? '8431' : '4242',
      network: brand,
    },
    type: 'card',
  };
}

export function newCharge(
  ctx: RequestContext,
  pi: StripeObject,
  pm: string,
  captured: boolean,
): StripeObject {
  const id = newId('ch');
  const transferData = pi.transfer_data as Record<string, unknown> | null;
  return chargeObject(id, {
    amount: pi.amount,
    amount_captured: captured ? pi.amount : 0,
    application: !ctx.isPlatform && pi.application_fee_amount !== null ? ctx.emu.clientId : null,
    application_fee_amount: pi.application_fee_amount,
    calculated_statement_descriptor: 'EMULATED',
    captured,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    destination: transferData?.destination ?? null,
    metadata: { ...(pi.metadata as Record<string, string>) },
    on_behalf_of: pi.on_behalf_of,
    outcome: {
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      risk_score: 20,
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    payment_intent: pi.id,
    payment_method: pm,
    payment_method_details: cardDetails(pm),
    receipt_email: pi.receipt_email,
    receipt_url: `${ctx.baseUrl}/_emulator/receipts/${id}`,
    statement_descriptor: pi.statement_descriptor,
    statement_descriptor_suffix: pi.statement_descriptor_suffix,
    transfer_data: transferData,
    transfer_group: pi.transfer_group,
  });
}

/**
 * Money movement once funds are captured (https://docs.stripe.com/connect/charges): the charge's balance
 * transaction on the account that made it (Stripe's processing fee; a direct charge's application fee too);
 * a destination charge transfers the whole amount (or `transfer_data[amount]`) to the destination, whose
 * payment then pays the application fee; the fee reaches the platform as an `application_fee`.
 */
export function settle(ctx: RequestContext, pi: StripeObject, charge: StripeObject, captured: number): void {
  const { emu } = ctx;
  const { store, platformId } = emu;
  const currency = charge.currency as string;
  const transferData = pi.transfer_data as { destination: string; amount?: number } | null;
  const appFee = (pi.application_fee_amount as number | null) || 0;
  const direct = !ctx.isPlatform;
  const feeDetails = [stripeFeeDetail(processingFee(captured), currency)];
  if (direct && appFee) feeDetails.push(applicationFeeDetail(appFee, currency, emu.clientId));
  const now = nowSeconds();
  const txn = recordBalanceTransaction(emu, ctx.owner, {
    amount: captured,
    currency,
    feeDetails,
    type: 'charge',
    source: charge.id,
    description: charge.description as string | null,
    // https://docs.stripe.com/testing#available-balance: this test card's funds are available at once.
    availableOn: charge.payment_method === 'pm_card_bypassPending' ? now : undefined,
  });
  charge.balance_transaction = txn.id;
  const feeId = appFee ? newId('fee') : null;
  let payment: StripeObject | undefined;
  if (transferData) {
    if (!pi.transfer_group) pi.transfer_group = `group_${pi.id}`;
    charge.transfer_group = pi.transfer_group;
    const transfer = makeTransfer(ctx, {
      amount: transferData.amount ?? captured,
      currency,
      destination: transferData.destination,
      sourceTransaction: charge.id,
      transferGroup: pi.transfer_group as string,
      applicationFee: feeId ? { amount: appFee, id: feeId } : undefined,
      availableOn: txn.available_on as number,
    });
    charge.transfer = transfer.id;
    payment = store.entry('charge', transfer.destination_payment as string)?.obj;
  }
  if (feeId) {
    const feeTxn = recordBalanceTransaction(emu, platformId, {
      amount: appFee,
      currency,
      type: 'application_fee',
      source: feeId,
      availableOn: txn.available_on as number,
    });
    const fee = store.put('application_fee', platformId, {
      id: feeId,
      object: 'application_fee',
      account: transferData?.destination ?? ctx.owner,
      amount: appFee,
      amount_refunded: 0,
      application: emu.clientId,
      balance_transaction: feeTxn.id,
      charge: payment?.id ?? charge.id,
      created: nowSeconds(),
      currency,
      livemode: false,
      originating_transaction: payment ? charge.id : null,
      refunded: false,
      refunds: listOf(`/v1/application_fees/${feeId}/refunds`),
    });
    charge.application_fee = fee.id;
    emitEvent(ctx, 'application_fee.created', fee, platformId);
  }
}

export function cardError(ctx: RequestContext, pi: StripeObject, pm: string): StripeApiError {
  const decline = DECLINES[pm];
  const charge = newCharge(ctx, pi, pm, false);
  Object.assign(charge, {
    paid: false,
    status: 'failed',
    failure_code: decline.code,
    failure_message: decline.message,
    outcome: {
      network_status: 'declined_by_network',
      reason: decline.decline_code,
      risk_level: 'normal',
      seller_message: 'The bank did not return any further details with this decline.',
      type: 'issuer_declined',
    },
  });
  ctx.emu.store.put('charge', ctx.owner, charge);
  const error = {
    charge: charge.id,
    code: decline.code,
    decline_code: decline.decline_code,
    doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
    message: decline.message,
    payment_method: { id: pm, object: 'payment_method', type: 'card', card: cardDetails(pm).card },
    type: 'card_error',
  };
  Object.assign(pi, {
    status: 'requires_payment_method',
    latest_charge: charge.id,
    last_payment_error: error,
    payment_method: null,
  });
  emitEvent(ctx, 'charge.failed', charge);
  emitEvent(ctx, 'payment_intent.payment_failed', pi);
  return new StripeApiError(402, { error: { ...error, payment_intent: structuredClone(pi) } });
}

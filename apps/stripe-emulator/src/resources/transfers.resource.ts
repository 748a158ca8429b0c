import { EmulatorState, emitEvent, RequestContext, Route } from '../context';
import { invalidRequest, missingParam, StripeApiError } from '../errors';
import { newId, nowSeconds } from '../ids';
import { proportional, validateCurrency } from '../money';
import { amountWithin, mergeMetadata, optBool, optInt, optString, reqString } from '../params';
import { StripeObject } from '../store';
import { refundApplicationFee } from './application-fees.resource';
import {
  applicationFeeDetail,
  balanceInsufficient,
  balanceOf,
  FeeDetail,
  recordBalanceTransaction,
} from './balance.resource';
import { requireTransfers } from './capabilities';
import { chargeObject } from './charge-object';
import { findOwned, listOf, listRoute, nestedRoutes, pushToList, retrieveRoute } from './crud-helpers';

/**
 * Transfers to connected accounts and their reversals.
 * https://docs.stripe.com/connect/separate-charges-and-transfers and https://docs.stripe.com/api/transfer_reversals
 */
export interface NewTransfer {
  amount: number;
  currency: string;
  destination: string;
  sourceTransaction: string | null;
  transferGroup: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  sourceType?: string;
  /** A destination charge's application fee, taken from the payment the account receives. */
  applicationFee?: { amount: number; id: string };
  /** When the account's funds become available (a source charge's own `available_on`). */
  availableOn?: number;
}

/** The `py_` charge the destination account receives for a transfer. */
function destinationPayment(emu: EmulatorState, transferId: string, t: NewTransfer): StripeObject {
  return chargeObject(newId('py'), {
    amount: t.amount,
    amount_captured: t.amount,
    application: emu.clientId,
    application_fee: t.applicationFee?.id ?? null,
    application_fee_amount: t.applicationFee?.amount ?? null,
    currency: t.currency,
    payment_method_details: { stripe_account: {}, type: 'stripe_account' },
    source_transfer: transferId,
    transfer_group: t.transferGroup,
  });
}

/**
 * Moves money from the platform to a connected account: the platform's `transfer` balance transaction, the
 * account's `py_` payment with its `payment` balance transaction, the transfer, and transfer.created.
 */
export function makeTransfer(ctx: RequestContext, t: NewTransfer): StripeObject {
  const { emu } = ctx;
  const id = newId('tr');
  const platformTxn = recordBalanceTransaction(emu, emu.platformId, {
    amount: -t.amount,
    currency: t.currency,
    type: 'transfer',
    source: id,
    description: t.description ?? null,
  });
  const payment = destinationPayment(emu, id, t);
  const feeDetails: FeeDetail[] = t.applicationFee
    ? [applicationFeeDetail(t.applicationFee.amount, t.currency, emu.clientId)]
    : [];
  payment.balance_transaction = recordBalanceTransaction(emu, t.destination, {
    amount: t.amount,
    currency: t.currency,
    type: 'payment',
    source: payment.id,
    feeDetails,
    availableOn: t.availableOn,
  }).id;
  emu.store.put('charge', t.destination, payment);
  const transfer = emu.store.put('transfer', emu.platformId, {
    id,
    object: 'transfer',
    amount: t.amount,
    amount_reversed: 0,
    balance_transaction: platformTxn.id,
    created: nowSeconds(),
    currency: t.currency,
    description: t.description ?? null,
    destination: t.destination,
    destination_payment: payment.id,
    livemode: false,
    metadata: t.metadata ?? {},
    reversals: listOf(`/v1/transfers/${id}/reversals`),
    reversed: false,
    source_transaction: t.sourceTransaction,
    source_type: t.sourceType ?? 'card',
    transfer_group: t.transferGroup,
  });
  emitEvent(ctx, 'transfer.created', transfer, emu.platformId);
  return transfer;
}

/**
 * Takes `amount` back from the destination: the platform's `transfer_refund` (category transfer_reversal),
 * on the account a `pyr_` refund of its payment with a `payment_refund` balance transaction, transfer.reversed.
 */
export function reverseTransfer(
  ctx: RequestContext,
  transfer: StripeObject,
  amount: number,
  opts: { sourceRefund?: string | null; metadata?: Record<string, string>; description?: string | null } = {},
): StripeObject {
  const { emu } = ctx;
  const currency = transfer.currency as string;
  const destination = transfer.destination as string;
  const id = newId('trr');
  const paymentRefundId = newId('pyr');
  const payment = emu.store.entry('charge', transfer.destination_payment as string)?.obj;
  const paymentRefund: StripeObject = {
    id: paymentRefundId,
    object: 'refund',
    amount,
    balance_transaction: recordBalanceTransaction(emu, destination, {
      amount: -amount,
      currency,
      type: 'payment_refund',
      source: paymentRefundId,
    }).id,
    charge: transfer.destination_payment,
    created: nowSeconds(),
    currency,
    metadata: {},
    payment_intent: null,
    reason: null,
    receipt_number: null,
    source_transfer_reversal: id,
    status: 'succeeded',
    transfer_reversal: null,
  };
  emu.store.put('refund', destination, paymentRefund);
  if (payment) {
    payment.amount_refunded = (payment.amount_refunded as number) + amount;
    payment.refunded = payment.amount_refunded === payment.amount;
    pushToList(payment.refunds, paymentRefund);
  }
  const reversal = emu.store.put('transfer_reversal', emu.platformId, {
    id,
    object: 'transfer_reversal',
    amount,
    balance_transaction: recordBalanceTransaction(emu, emu.platformId, {
      amount,
      currency,
      type: 'transfer_refund',
      source: id,
      description: opts.description ?? null,
    }).id,
    created: nowSeconds(),
    currency,
    destination_payment_refund: paymentRefundId,
    metadata: opts.metadata ?? {},
    source_refund: opts.sourceRefund ?? null,
    transfer: transfer.id,
  });
  const previous = { amount_reversed: transfer.amount_reversed, reversed: transfer.reversed };
  transfer.amount_reversed = (transfer.amount_reversed as number) + amount;
  transfer.reversed = transfer.amount_reversed === transfer.amount;
  pushToList(transfer.reversals, reversal);
  emitEvent(ctx, 'transfer.reversed', transfer, emu.platformId, previous);
  return reversal;
}

function requirePlatform(ctx: RequestContext): void {
  if (!ctx.isPlatform) {
    throw new StripeApiError(403, {
      error: { type: 'invalid_request_error', message: 'Only the platform can create transfers.' },
    });
  }
}

function sourceCharge(ctx: RequestContext, id: string, currency: string, amount: number): StripeObject {
  const charge = ctx.emu.store.find('charge', id, ctx.emu.platformId);
  if (!charge) {
    throw invalidRequest(`No such charge: '${id}'`, {
      param: 'source_transaction',
      code: 'resource_missing',
    });
  }
  if (charge.status !== 'succeeded' || !charge.captured) {
    throw invalidRequest(`The source_transaction ${id} has not succeeded.`, { param: 'source_transaction' });
  }
  if (charge.currency !== currency) {
    throw invalidRequest(
      `The currency of source_transaction's balance transaction (${String(charge.currency)}) must be the same as the transfer currency (${currency}).`,
      { param: 'currency' },
    );
  }
  const already = ctx.emu.store
    .list('transfer', ctx.emu.platformId, (t) => t.source_transaction === id)
    .reduce((sum, t) => sum + (t.amount as number), 0);
  const left = (charge.amount_captured as number) - already;
  if (amount > left) {
    throw invalidRequest(
      `Transfers using this transaction as a source must not exceed the source amount of ${String(charge.amount_captured)}. (There is already ${already} in transfers using this source.)`,
      { param: 'amount' },
    );
  }
  return charge;
}

function findTransfer(ctx: RequestContext, id: string): StripeObject {
  return findOwned(ctx, 'transfer', id, 'transfer');
}

export function transfersRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/transfers',
      handler: (ctx) => {
        requirePlatform(ctx);
        const p = ctx.params;
        const amount = optInt(p, 'amount');
        if (amount === undefined) throw missingParam('amount');
        if (amount < 1) {
          throw invalidRequest('This value must be greater than or equal to 1.', {
            param: 'amount',
            code: 'parameter_invalid_integer',
          });
        }
        const currency = reqString(p, 'currency');
        validateCurrency(currency);
        const destination = reqString(p, 'destination');
        if (!ctx.emu.connectedAccount(destination)) {
          throw invalidRequest(`No such destination: '${destination}'`, {
            param: 'destination',
            code: 'resource_missing',
          });
        }
        requireTransfers(ctx.emu, destination, 'destination');
        const sourceId = optString(p, 'source_transaction');
        let transferGroup = optString(p, 'transfer_group') || null;
        let availableOn: number | undefined;
        if (sourceId) {
          const charge = sourceCharge(ctx, sourceId, currency, amount);
          // Stripe groups a source charge's transfers under group_<payment intent> when none was given.
          if (!transferGroup) {
            transferGroup =
              (charge.transfer_group as string | null) ?? `group_${String(charge.payment_intent)}`;
          }
          if (!charge.transfer_group) {
            charge.transfer_group = transferGroup;
            const pi = charge.payment_intent
              ? ctx.emu.store.find('payment_intent', charge.payment_intent as string, ctx.emu.platformId)
              : undefined;
            if (pi && !pi.transfer_group) pi.transfer_group = transferGroup;
          }
          const txn = ctx.emu.store.entry('balance_transaction', charge.balance_transaction as string)?.obj;
          availableOn = txn?.available_on as number | undefined;
        } else if (balanceOf(ctx.emu, ctx.emu.platformId, currency, 'available') < amount) {
          throw balanceInsufficient();
        }
        const transfer = makeTransfer(ctx, {
          amount,
          currency,
          destination,
          sourceTransaction: sourceId ?? null,
          transferGroup,
          description: optString(p, 'description') ?? null,
          metadata: mergeMetadata({}, p.metadata),
          sourceType: optString(p, 'source_type'),
          availableOn,
        });
        return { body: transfer };
      },
    },
    listRoute('transfer', '/v1/transfers', ['destination', 'transfer_group']),
    retrieveRoute('transfer', '/v1/transfers/:id', 'transfer'),
    {
      method: 'POST',
      path: '/v1/transfers/:id',
      handler: (ctx) => {
        const transfer = findTransfer(ctx, ctx.pathParams.id);
        const previous: Record<string, unknown> = {};
        const description = optString(ctx.params, 'description');
        if (description !== undefined) {
          previous.description = transfer.description;
          transfer.description = description || null;
        }
        if (ctx.params.metadata !== undefined) {
          previous.metadata = transfer.metadata;
          transfer.metadata = mergeMetadata(transfer.metadata, ctx.params.metadata);
        }
        if (Object.keys(previous).length > 0) {
          emitEvent(ctx, 'transfer.updated', transfer, ctx.emu.platformId, previous);
        }
        return { body: transfer };
      },
    },
    {
      method: 'POST',
      path: '/v1/transfers/:id/reversals',
      handler: (ctx) => {
        const transfer = findTransfer(ctx, ctx.pathParams.id);
        const remaining = (transfer.amount as number) - (transfer.amount_reversed as number);
        if (remaining <= 0) {
          throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`);
        }
        const amount = amountWithin(
          ctx.params,
          remaining,
          (a) =>
            `The transfer reversal amount (${a}) is greater than the amount left to reverse on transfer ${transfer.id} (${remaining}).`,
        );
        const currency = transfer.currency as string;
        if (balanceOf(ctx.emu, transfer.destination as string, currency, 'total') < amount) {
          throw balanceInsufficient(
            `The destination account ${String(transfer.destination)} has insufficient funds to cover the transfer reversal.`,
          );
        }
        const full = amount === remaining;
        const reversal = reverseTransfer(ctx, transfer, amount, {
          metadata: mergeMetadata({}, ctx.params.metadata),
          description: optString(ctx.params, 'description') ?? null,
        });
        if (optBool(ctx.params, 'refund_application_fee')) {
          const source = transfer.source_transaction
            ? ctx.emu.store.entry('charge', transfer.source_transaction as string)?.obj
            : undefined;
          const fee = source?.application_fee
            ? ctx.emu.store.entry('application_fee', source.application_fee as string)?.obj
            : undefined;
          if (fee) {
            const left = (fee.amount as number) - (fee.amount_refunded as number);
            const back = full
              ? left
              : Math.min(left, proportional(fee.amount as number, amount, transfer.amount as number));
            if (back > 0) refundApplicationFee(ctx, fee, back);
          }
        }
        return { body: reversal };
      },
    },
    ...nestedRoutes({
      parent: 'transfer',
      child: 'transfer_reversal',
      link: 'transfer',
      path: '/v1/transfers/:id/reversals',
      kind: 'transfer reversal',
    }),
  ];
}

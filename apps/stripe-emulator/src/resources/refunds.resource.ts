import { emitEvent, Route } from '../context';
import { invalidRequest } from '../errors';
import { newId, nowSeconds } from '../ids';
import { proportional } from '../money';
import { mergeMetadata, optBool, optInt, optString } from '../params';
import { StripeObject } from '../store';
import { recordBalanceTransaction } from './balance.resource';
import { refundApplicationFee } from './application-fees.resource';
import { findOwned, listRoute, pushToList, retrieveRoute } from './crud-helpers';
import { reverseTransfer } from './transfers.resource';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'];

/**
 * The share of `total` a refund takes back; the last refund takes whatever is left so rounding never strands
 * a cent. https://docs.stripe.com/connect/direct-charges#issue-refunds (proportional on partial refunds)
 */
function share(
  total: number,
  already: number,
  refund: number,
  captured: number,
  fullyRefunded: boolean,
): number {
  const left = total - already;
  return fullyRefunded ? left : Math.min(left, proportional(total, refund, captured));
}

export function refundsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/refunds',
      handler: (ctx) => {
        const piId = optString(ctx.params, 'payment_intent');
        let chargeId = optString(ctx.params, 'charge');
        if (!piId && !chargeId) {
          throw invalidRequest(
            'One of the following params should be provided for this request: payment_intent or charge.',
          );
        }
        if (piId) {
          const pi = findOwned(ctx, 'payment_intent', piId, 'payment_intent');
          if (pi.status !== 'succeeded' || !pi.latest_charge) {
            throw invalidRequest(
              `This PaymentIntent (${piId}) does not have a successful charge to refund.`,
              {
                param: 'payment_intent',
                code: 'charge_not_refundable',
              },
            );
          }
          chargeId = pi.latest_charge as string;
        }
        const charge = findOwned(ctx, 'charge', chargeId as string, 'charge');
        if (!charge.captured || charge.status !== 'succeeded') {
          throw invalidRequest(`Charge ${charge.id} has not been captured.`, {
            param: 'charge',
            code: 'charge_not_refundable',
          });
        }
        const chargeAmount = charge.amount as number;
        const remaining = chargeAmount - (charge.amount_refunded as number);
        if (remaining <= 0) {
          throw invalidRequest(`Charge ${charge.id} has already been refunded.`, {
            code: 'charge_already_refunded',
          });
        }
        const amount = optInt(ctx.params, 'amount') ?? remaining;
        if (amount < 1)
          throw invalidRequest('Refund amount must be positive.', {
            param: 'amount',
            code: 'parameter_invalid_integer',
          });
        if (amount > remaining) {
          throw invalidRequest(
            `Refund amount (${amount} ${String(charge.currency)}) is greater than unrefunded amount on charge (${remaining} ${String(charge.currency)})`,
            { param: 'amount', code: 'amount_too_large' },
          );
        }
        const reason = optString(ctx.params, 'reason') ?? null;
        if (reason !== null && !REASONS.includes(reason)) {
          throw invalidRequest(`Invalid reason: must be one of ${REASONS.join(', ')}`, { param: 'reason' });
        }
        const reverse = optBool(ctx.params, 'reverse_transfer') ?? false;
        if (reverse && !charge.transfer) {
          throw invalidRequest('This charge has no transfer to reverse.', { param: 'reverse_transfer' });
        }
        const refundFee = optBool(ctx.params, 'refund_application_fee') ?? false;
        const { store } = ctx.emu;
        const refundId = newId('re');
        const captured = charge.amount_captured as number;
        const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
        charge.amount_refunded = (charge.amount_refunded as number) + amount;
        charge.refunded = charge.amount_refunded === chargeAmount;
        const full = charge.refunded as boolean;

        let reversalId: string | null = null;
        if (reverse) {
          const transfer = store.entry('transfer', charge.transfer as string)?.obj;
          if (transfer) {
            const back = share(
              transfer.amount as number,
              transfer.amount_reversed as number,
              amount,
              captured,
              full,
            );
            if (back > 0) reversalId = reverseTransfer(ctx, transfer, back, { sourceRefund: refundId }).id;
          }
        }
        if (refundFee && charge.application_fee) {
          const fee = store.entry('application_fee', charge.application_fee as string)?.obj;
          if (fee) {
            const back = share(fee.amount as number, fee.amount_refunded as number, amount, captured, full);
            if (back > 0) refundApplicationFee(ctx, fee, back);
          }
        }
        const refund: StripeObject = {
          id: refundId,
          object: 'refund',
          amount,
          balance_transaction: recordBalanceTransaction(ctx.emu, ctx.owner, {
            amount: -amount,
            currency: charge.currency as string,
            type: 'refund',
            source: refundId,
          }).id,
          charge: charge.id,
          created: nowSeconds(),
          currency: charge.currency,
          metadata: mergeMetadata({}, ctx.params.metadata),
          payment_intent: charge.payment_intent,
          reason,
          receipt_number: null,
          source_transfer_reversal: null,
          status: 'succeeded',
          transfer_reversal: reversalId,
        };
        store.put('refund', ctx.owner, refund);
        pushToList(charge.refunds, refund);
        emitEvent(ctx, 'refund.created', refund);
        emitEvent(ctx, 'charge.refunded', charge, ctx.owner, previous);
        return { body: refund };
      },
    },
    retrieveRoute('refund', '/v1/refunds/:id', 'refund'),
    listRoute('refund', '/v1/refunds', ['charge', 'payment_intent']),
  ];
}

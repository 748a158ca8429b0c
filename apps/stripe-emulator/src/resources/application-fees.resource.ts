import { emitEvent, RequestContext, Route } from '../context';
import { invalidRequest } from '../errors';
import { newId, nowSeconds } from '../ids';
import { amountWithin, mergeMetadata } from '../params';
import { StripeObject } from '../store';
import { recordBalanceTransaction } from './balance.resource';
import { findOwned, listRoute, nestedRoutes, pushToList, retrieveRoute } from './crud-helpers';

/**
 * Refunds `amount` of an application fee: the platform's `application_fee_refund` (category
 * platform_earning_refund), the same amount back on the connected account (category fee), the `fr_`
 * fee refund, and application_fee.refunded. https://docs.stripe.com/api/fee_refunds
 */
export function refundApplicationFee(
  ctx: RequestContext,
  fee: StripeObject,
  amount: number,
  metadata: Record<string, string> = {},
): StripeObject {
  const { emu } = ctx;
  const currency = fee.currency as string;
  const id = newId('fr');
  const platformTxn = recordBalanceTransaction(emu, emu.platformId, {
    amount: -amount,
    currency,
    type: 'application_fee_refund',
    source: id,
  });
  recordBalanceTransaction(emu, fee.account as string, {
    amount,
    currency,
    type: 'application_fee_refund',
    category: 'fee',
    source: id,
  });
  const refund = emu.store.put('fee_refund', emu.platformId, {
    id,
    object: 'fee_refund',
    amount,
    balance_transaction: platformTxn.id,
    created: nowSeconds(),
    currency,
    fee: fee.id,
    metadata,
  });
  const previous = { amount_refunded: fee.amount_refunded, refunded: fee.refunded };
  fee.amount_refunded = (fee.amount_refunded as number) + amount;
  fee.refunded = fee.amount_refunded === fee.amount;
  pushToList(fee.refunds, refund);
  emitEvent(ctx, 'application_fee.refunded', fee, emu.platformId, previous);
  return refund;
}

export function applicationFeesRoutes(): Route[] {
  return [
    listRoute('application_fee', '/v1/application_fees', ['charge']),
    retrieveRoute('application_fee', '/v1/application_fees/:id', 'id'),
    {
      method: 'POST',
      path: '/v1/application_fees/:id/refunds',
      handler: (ctx) => {
        const fee = findOwned(ctx, 'application_fee', ctx.pathParams.id, 'id');
        const remaining = (fee.amount as number) - (fee.amount_refunded as number);
        if (remaining <= 0) throw invalidRequest(`Application fee ${fee.id} has already been refunded.`);
        const amount = amountWithin(
          ctx.params,
          remaining,
          (a) =>
            `Refund amount (${a} ${String(fee.currency)}) is greater than the unrefunded amount on the application fee (${remaining} ${String(fee.currency)}).`,
        );
        return { body: refundApplicationFee(ctx, fee, amount, mergeMetadata({}, ctx.params.metadata)) };
      },
    },
    ...nestedRoutes({
      parent: 'application_fee',
      child: 'fee_refund',
      link: 'fee',
      path: '/v1/application_fees/:id/refunds',
      kind: 'fee refund',
    }),
  ];
}

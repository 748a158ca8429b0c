import { emitEvent, RequestContext, Route } from '../context';
import { invalidRequest } from '../errors';
import { newId, nowSeconds } from '../ids';
import { mergeMetadata, optInt } from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';
import { recordBalanceTransaction } from './balance.resource';
import { findOwned, listRoute, pushToList, retrieveRoute } from './crud-helpers';

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

function findRefund(ctx: RequestContext): StripeObject {
  const refund = findOwned(ctx, 'fee_refund', ctx.pathParams.refund, 'id');
  if (refund.fee !== ctx.pathParams.id) {
    throw invalidRequest(`No such fee refund: '${ctx.pathParams.refund}'`, {
      code: 'resource_missing',
      status: 404,
    });
  }
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
        const amount = optInt(ctx.params, 'amount') ?? remaining;
        if (amount < 1) {
          throw invalidRequest('This value must be greater than or equal to 1.', {
            param: 'amount',
            code: 'parameter_invalid_integer',
          });
        }
        if (amount > remaining) {
          throw invalidRequest(
            `Refund amount (${amount} ${String(fee.currency)}) is greater than the unrefunded amount on the application fee (${remaining} ${String(fee.currency)}).`,
            { param: 'amount' },
          );
        }
        return { body: refundApplicationFee(ctx, fee, amount, mergeMetadata({}, ctx.params.metadata)) };
      },
    },
    {
      method: 'GET',
      path: '/v1/application_fees/:id/refunds',
      handler: (ctx) => {
        const fee = findOwned(ctx, 'application_fee', ctx.pathParams.id, 'id');
        const items = ctx.emu.store.list('fee_refund', ctx.owner, (r) => r.fee === fee.id);
        return { body: paginate(items, ctx.params, `/v1/application_fees/${fee.id}/refunds`) };
      },
    },
    {
      method: 'GET',
      path: '/v1/application_fees/:id/refunds/:refund',
      handler: (ctx) => ({ body: findRefund(ctx) }),
    },
    {
      method: 'POST',
      path: '/v1/application_fees/:id/refunds/:refund',
      handler: (ctx) => {
        const refund = findRefund(ctx);
        if (ctx.params.metadata !== undefined) {
          refund.metadata = mergeMetadata(refund.metadata, ctx.params.metadata);
        }
        return { body: refund };
      },
    },
  ];
}

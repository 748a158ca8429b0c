import { Route } from '../context';
import { newId, nowSeconds } from '../ids';
import { Store, StripeObject } from '../store';
import { listRoute, retrieveRoute } from './crud-helpers';

/** Records a balance transaction for `owner`. https://docs.stripe.com/api/balance_transactions/object */
export function recordBalanceTransaction(
  store: Store,
  owner: string,
  fields: {
    amount: number;
    currency: string;
    fee?: number;
    type: string;
    source: string;
    description?: string | null;
  },
): StripeObject {
  const fee = fields.fee ?? 0;
  const created = nowSeconds();
  return store.put('balance_transaction', owner, {
    id: newId('txn'),
    object: 'balance_transaction',
    amount: fields.amount,
    available_on: created + 2 * 24 * 3600,
    created,
    currency: fields.currency,
    description: fields.description ?? null,
    exchange_rate: null,
    fee,
    fee_details: fee
      ? [
          {
            amount: fee,
            application: null,
            currency: fields.currency,
            description: 'Stripe processing fees',
            type: 'stripe_fee',
          },
        ]
      : [],
    net: fields.amount - fee,
    reporting_category: fields.type === 'payment' ? 'charge' : fields.type,
    source: fields.source,
    status: 'pending',
    type: fields.type,
  });
}

/** Read-only money lists the reconciliation uses: application fees, transfers, balance transactions. */
export function balanceRoutes(): Route[] {
  return [
    listRoute('application_fee', '/v1/application_fees', ['charge']),
    retrieveRoute('application_fee', '/v1/application_fees/:id', 'id'),
    listRoute('transfer', '/v1/transfers', ['destination', 'transfer_group']),
    retrieveRoute('transfer', '/v1/transfers/:id', 'transfer'),
    listRoute('balance_transaction', '/v1/balance_transactions', ['type', 'source', 'currency']),
    retrieveRoute('balance_transaction', '/v1/balance_transactions/:id', 'id'),
    listRoute('charge', '/v1/charges', ['payment_intent', 'customer', 'transfer_group']),
    retrieveRoute('charge', '/v1/charges/:id', 'charge'),
  ];
}

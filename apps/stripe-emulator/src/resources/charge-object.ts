import { nowSeconds } from '../ids';
import { StripeObject } from '../store';
import { listOf } from './crud-helpers';

/**
 * A `charge` with every field Stripe renders (fixtures3.json.gz `resources.charge`), succeeded and captured
 * unless `fields` say otherwise. https://docs.stripe.com/api/charges/object
 */
export function chargeObject(id: string, fields: Record<string, unknown>): StripeObject {
  return {
    id,
    object: 'charge',
    amount: 0,
    amount_captured: 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: { address: null, email: null, name: null, phone: null },
    calculated_statement_descriptor: null,
    captured: true,
    created: nowSeconds(),
    currency: 'usd',
    customer: null,
    description: null,
    destination: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    invoice: null,
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: null,
    paid: true,
    payment_intent: null,
    payment_method: null,
    payment_method_details: null,
    receipt_email: null,
    receipt_url: null,
    refunded: false,
    refunds: listOf(`/v1/charges/${id}/refunds`),
    review: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer: null,
    transfer_data: null,
    transfer_group: null,
    ...fields,
  };
}

import { emitEvent, RequestContext, Route } from '../context';
import { invalidRequest } from '../errors';
import { newId, nowSeconds, randomToken } from '../ids';
import { validateCurrency } from '../money';
import {
  isRecord,
  mergeMetadata,
  optArray,
  optInt,
  optObject,
  optString,
  Params,
  reqString,
} from '../params';
import { StripeObject } from '../store';
import { findOwned, listOf, listRoute, retrieveRoute } from './crud-helpers';
import { payInvoice } from './payment-intents.resource';

/** Customers, products, prices and basic subscriptions (https://docs.stripe.com/connect/subscriptions). */

const INTERVAL_SECONDS: Record<string, number> = {
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
  year: 31_536_000,
};

function createProduct(ctx: RequestContext, params: Params): StripeObject {
  const name = reqString(params, 'name');
  return ctx.emu.store.put('product', ctx.owner, {
    id: newId('prod', 14),
    object: 'product',
    active: true,
    created: nowSeconds(),
    description: optString(params, 'description') ?? null,
    livemode: false,
    metadata: mergeMetadata({}, params.metadata),
    name,
    type: 'service',
    updated: nowSeconds(),
  });
}

/** Two decimals at most, 0..100: https://docs.stripe.com/api/subscriptions/create#create_subscription-application_fee_percent */
function feePercent(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  if (!/^\d+(\.\d{1,2})?$/.test(value) || n < 0 || n > 100) {
    throw invalidRequest('application_fee_percent must be between 0 and 100 with at most two decimals.', {
      param: 'application_fee_percent',
    });
  }
  return n;
}

export function billingRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/customers',
      handler: (ctx) => {
        const p = ctx.params;
        const customer = ctx.emu.store.put('customer', ctx.owner, {
          id: newId('cus', 14),
          object: 'customer',
          address: null,
          balance: 0,
          created: nowSeconds(),
          currency: null,
          default_source: null,
          delinquent: false,
          description: optString(p, 'description') ?? null,
          discount: null,
          email: optString(p, 'email') ?? null,
          invoice_prefix: randomToken(8).toUpperCase(),
          invoice_settings: {
            custom_fields: null,
            default_payment_method:
              (isRecord(p.invoice_settings)
                ? (p.invoice_settings.default_payment_method as string)
                : undefined) ??
              optString(p, 'payment_method') ??
              null,
            footer: null,
            rendering_options: null,
          },
          livemode: false,
          metadata: mergeMetadata({}, p.metadata),
          name: optString(p, 'name') ?? null,
          next_invoice_sequence: 1,
          phone: optString(p, 'phone') ?? null,
          preferred_locales: [],
          shipping: null,
          tax_exempt: 'none',
          test_clock: null,
        });
        emitEvent(ctx, 'customer.created', customer);
        return { body: customer };
      },
    },
    retrieveRoute('customer', '/v1/customers/:id', 'customer'),
    listRoute('customer', '/v1/customers', ['email']),
    {
      method: 'POST',
      path: '/v1/products',
      handler: (ctx) => ({ body: createProduct(ctx, ctx.params) }),
    },
    retrieveRoute('product', '/v1/products/:id', 'id'),
    {
      method: 'POST',
      path: '/v1/prices',
      handler: (ctx) => {
        const p = ctx.params;
        const currency = reqString(p, 'currency');
        validateCurrency(currency);
        const unitAmount = optInt(p, 'unit_amount');
        if (unitAmount === undefined || unitAmount < 0) {
          throw invalidRequest('Missing required param: unit_amount.', {
            param: 'unit_amount',
            code: 'parameter_missing',
          });
        }
        const productData = optObject(p, 'product_data');
        const productId = optString(p, 'product');
        const product = productData
          ? createProduct(ctx, productData)
          : findOwned(ctx, 'product', productId ?? reqString(p, 'product'), 'product');
        const recurring = optObject(p, 'recurring');
        const interval = recurring ? reqString(recurring, 'interval') : undefined;
        if (interval !== undefined && !INTERVAL_SECONDS[interval]) {
          throw invalidRequest('Invalid recurring[interval]', { param: 'recurring[interval]' });
        }
        const price = ctx.emu.store.put('price', ctx.owner, {
          id: newId('price'),
          object: 'price',
          active: true,
          billing_scheme: 'per_unit',
          created: nowSeconds(),
          currency,
          custom_unit_amount: null,
          livemode: false,
          lookup_key: optString(p, 'lookup_key') ?? null,
          metadata: mergeMetadata({}, p.metadata),
          nickname: optString(p, 'nickname') ?? null,
          product: product.id,
          recurring: recurring
            ? {
                aggregate_usage: null,
                interval,
                interval_count: optInt(recurring, 'interval_count', 'recurring[interval_count]') ?? 1,
                usage_type: 'licensed',
              }
            : null,
          tax_behavior: 'unspecified',
          tiers_mode: null,
          transform_quantity: null,
          type: recurring ? 'recurring' : 'one_time',
          unit_amount: unitAmount,
          unit_amount_decimal: String(unitAmount),
        });
        return { body: price };
      },
    },
    retrieveRoute('price', '/v1/prices/:id', 'price'),
    {
      method: 'POST',
      path: '/v1/subscriptions',
      handler: (ctx) => {
        const p = ctx.params;
        const customer = findOwned(ctx, 'customer', reqString(p, 'customer'), 'customer');
        const itemParams = optArray(p, 'items') ?? [];
        if (itemParams.length === 0)
          throw invalidRequest('Missing required param: items.', {
            param: 'items',
            code: 'parameter_missing',
          });
        const id = newId('sub');
        const now = nowSeconds();
        const items = itemParams.map((raw, i) => {
          if (!isRecord(raw)) throw invalidRequest('Invalid items', { param: `items[${i}]` });
          const price = findOwned(ctx, 'price', reqString(raw, 'price'), `items[${i}][price]`);
          if (!price.recurring) {
            throw invalidRequest(
              'The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.',
              {
                param: `items[${i}][price]`,
              },
            );
          }
          return {
            id: newId('si', 14),
            object: 'subscription_item',
            billing_thresholds: null,
            created: now,
            metadata: {},
            price,
            quantity: optInt(raw, 'quantity', `items[${i}][quantity]`) ?? 1,
            subscription: id,
            tax_rates: [],
          };
        });
        const first = items[0].price;
        const interval = (first.recurring as Record<string, string>).interval;
        const percent = feePercent(optString(p, 'application_fee_percent'));
        if (percent !== null && ctx.isPlatform && !optObject(p, 'transfer_data')) {
          throw invalidRequest(
            'application_fee_percent requires a connected account (Stripe-Account) or transfer_data.',
            {
              param: 'application_fee_percent',
            },
          );
        }
        const transferData = optObject(p, 'transfer_data');
        if (transferData) {
          const destination = reqString(transferData, 'destination');
          if (!ctx.isPlatform || !ctx.emu.connectedAccount(destination)) {
            throw invalidRequest(`No such destination: '${destination}'`, {
              param: 'transfer_data[destination]',
            });
          }
        }
        const total = items.reduce((sum, it) => sum + (it.price.unit_amount as number) * it.quantity, 0);
        const invoiceId = newId('in');
        const subscription: StripeObject = {
          id,
          object: 'subscription',
          application: ctx.isPlatform ? null : ctx.emu.clientId,
          application_fee_percent: percent,
          billing_cycle_anchor: now,
          cancel_at: null,
          cancel_at_period_end: false,
          canceled_at: null,
          collection_method: 'charge_automatically',
          created: now,
          currency: first.currency,
          current_period_end: now + INTERVAL_SECONDS[interval],
          current_period_start: now,
          customer: customer.id,
          default_payment_method: optString(p, 'default_payment_method') ?? null,
          description: optString(p, 'description') ?? null,
          ended_at: null,
          items: listOf(`/v1/subscription_items?subscription=${id}`, items as unknown as StripeObject[]),
          latest_invoice: invoiceId,
          livemode: false,
          metadata: mergeMetadata({}, p.metadata),
          on_behalf_of: optString(p, 'on_behalf_of') ?? null,
          start_date: now,
          status: 'active',
          transfer_data: transferData ?? null,
          trial_end: null,
          trial_start: null,
        };
        ctx.emu.store.put('subscription', ctx.owner, subscription);
        const invoice = ctx.emu.store.put('invoice', ctx.owner, {
          id: invoiceId,
          object: 'invoice',
          amount_due: total,
          amount_paid: total,
          amount_remaining: 0,
          application_fee_amount: percent === null ? null : Math.round((total * percent) / 100),
          billing_reason: 'subscription_create',
          charge: null,
          created: now,
          currency: first.currency,
          customer: customer.id,
          livemode: false,
          paid: true,
          payment_intent: null,
          status: 'paid',
          subscription: id,
          total,
        });
        emitEvent(ctx, 'customer.subscription.created', subscription);
        const percentOfTransfer = transferData ? optString(transferData, 'amount_percent') : undefined;
        // A free first period needs no payment.
        const pi =
          total === 0
            ? null
            : payInvoice(ctx, invoice, {
                applicationFeeAmount: invoice.application_fee_amount as number | null,
                transferData: transferData
                  ? {
                      destination: transferData.destination as string,
                      ...(percentOfTransfer !== undefined
                        ? { amount: Math.round((total * Number(percentOfTransfer)) / 100) }
                        : {}),
                    }
                  : null,
              });
        if (pi) Object.assign(invoice, { charge: pi.latest_charge, payment_intent: pi.id });
        emitEvent(ctx, 'invoice.paid', invoice);
        return { body: subscription };
      },
    },
    retrieveRoute('subscription', '/v1/subscriptions/:id', 'subscription_exposed_id'),
    listRoute('subscription', '/v1/subscriptions', ['customer', 'status']),
    retrieveRoute('invoice', '/v1/invoices/:id', 'invoice'),
    listRoute('invoice', '/v1/invoices', ['customer', 'subscription', 'status']),
    {
      method: 'DELETE',
      path: '/v1/subscriptions/:id',
      handler: (ctx) => {
        const sub = findOwned(ctx, 'subscription', ctx.pathParams.id, 'subscription_exposed_id');
        if (sub.status === 'canceled') {
          throw invalidRequest(`No such subscription: '${sub.id}'`, {
            code: 'resource_missing',
            status: 404,
          });
        }
        const now = nowSeconds();
        Object.assign(sub, { status: 'canceled', canceled_at: now, ended_at: now });
        emitEvent(ctx, 'customer.subscription.deleted', sub);
        return { body: sub };
      },
    },
  ];
}

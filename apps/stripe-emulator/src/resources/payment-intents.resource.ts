import { emitEvent, RequestContext, Route } from '../context';
import { invalidRequest, resourceMissing, unexpectedState } from '../errors';
import { newId, nowSeconds, randomToken } from '../ids';
import { validateAmount, validateCurrency } from '../money';
import {
  createdFilter,
  isRecord,
  mergeMetadata,
  optArray,
  optBool,
  optInt,
  optObject,
  optString,
  Params,
  reqString,
} from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';
import { requireCardPayments, requireTransfers } from './capabilities';
import { findOwned } from './crud-helpers';
import { cardError, DECLINES, NEEDS_ACTION, newCharge, settle } from './payment-intent-charges';

/**
 * Payment intents and the charges, fees and transfers they imply.
 * Test payment methods: https://docs.stripe.com/testing#cards and #declined-payments
 */
const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];
const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'];

function checkPaymentMethod(pm: string): void {
  if (!pm.startsWith('pm_')) throw resourceMissing('PaymentMethod', pm, 'payment_method');
}

function connectedParam(ctx: RequestContext, id: string, param: string): void {
  if (!ctx.isPlatform || !ctx.emu.connectedAccount(id)) {
    throw invalidRequest(`No such destination: '${id}'`, { param, code: 'resource_missing' });
  }
}

/** Validations shared by create and update (https://docs.stripe.com/api/payment_intents/create). */
function applyMoneyParams(ctx: RequestContext, pi: StripeObject, params: Params): void {
  const currency = optString(params, 'currency');
  if (currency !== undefined) {
    validateCurrency(currency);
    pi.currency = currency;
  }
  const amount = optInt(params, 'amount');
  if (amount !== undefined) pi.amount = amount;
  validateAmount(pi.amount as number, pi.currency as string);
  const fee = optInt(params, 'application_fee_amount');
  if (fee !== undefined) pi.application_fee_amount = fee;
  const transferData = optObject(params, 'transfer_data');
  if (transferData) {
    const destination = reqString(transferData, 'destination');
    connectedParam(ctx, destination, 'transfer_data[destination]');
    requireTransfers(ctx.emu, destination, 'transfer_data[destination]');
    const transferAmount = optInt(transferData, 'amount', 'transfer_data[amount]');
    if (transferAmount !== undefined && (transferAmount < 1 || transferAmount > (pi.amount as number))) {
      throw invalidRequest('transfer_data[amount] must be between 1 and the amount.', {
        param: 'transfer_data[amount]',
      });
    }
    pi.transfer_data = { destination, ...(transferAmount !== undefined ? { amount: transferAmount } : {}) };
  }
  const transferAmountSet = (pi.transfer_data as { amount?: number } | null)?.amount !== undefined;
  if (transferAmountSet && pi.application_fee_amount !== null && pi.application_fee_amount !== undefined) {
    // transfer_data[amount] keeps the rest on the platform without an application fee object.
    throw invalidRequest('transfer_data[amount] cannot be combined with application_fee_amount.', {
      param: 'transfer_data[amount]',
    });
  }
  const onBehalfOf = optString(params, 'on_behalf_of');
  if (onBehalfOf !== undefined) {
    connectedParam(ctx, onBehalfOf, 'on_behalf_of');
    pi.on_behalf_of = onBehalfOf;
  }
  const appFee = pi.application_fee_amount as number | null;
  if (appFee !== null) {
    if (appFee < 0 || appFee > (pi.amount as number)) {
      throw invalidRequest('The application fee amount must be less than or equal to the amount.', {
        param: 'application_fee_amount',
      });
    }
    if (ctx.isPlatform && !pi.transfer_data && !pi.on_behalf_of) {
      throw invalidRequest(
        'Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).',
        { param: 'application_fee_amount' },
      );
    }
  }
  for (const field of [
    'description',
    'receipt_email',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'transfer_group',
  ]) {
    const value = optString(params, field);
    if (value !== undefined) pi[field] = value || null;
  }
  const customer = optString(params, 'customer');
  if (customer !== undefined) {
    findOwned(ctx, 'customer', customer, 'customer');
    pi.customer = customer;
  }
  const pm = optString(params, 'payment_method');
  if (pm !== undefined) {
    checkPaymentMethod(pm);
    pi.payment_method = pm;
  }
  if (params.metadata !== undefined) pi.metadata = mergeMetadata(pi.metadata, params.metadata);
}

/**
 * Capabilities are checked when a charge would be made (confirmation), so a PaymentIntent created without
 * `confirm` can still be created and is refused at /confirm; a refused create-with-confirm stores nothing.
 */
function checkCapabilities(ctx: RequestContext, pi: StripeObject): void {
  if (!ctx.isPlatform) requireCardPayments(ctx.emu, ctx.owner);
  const transferData = pi.transfer_data as { destination: string } | null;
  if (transferData) requireTransfers(ctx.emu, transferData.destination, 'transfer_data[destination]');
}

/** An automatic capture: the charge settles in full and the PaymentIntent succeeds, with both events. */
function succeed(ctx: RequestContext, pi: StripeObject, charge: StripeObject): StripeObject {
  settle(ctx, pi, charge, pi.amount as number);
  Object.assign(pi, { status: 'succeeded', amount_received: pi.amount });
  ctx.emu.store.put('charge', ctx.owner, charge);
  emitEvent(ctx, 'charge.succeeded', charge);
  emitEvent(ctx, 'payment_intent.succeeded', pi);
  return pi;
}

function confirm(ctx: RequestContext, pi: StripeObject, params: Params): StripeObject {
  if (!CONFIRMABLE.includes(pi.status as string)) {
    throw unexpectedState(
      'payment_intent',
      `You cannot confirm this PaymentIntent because it has a status of ${String(pi.status)}.`,
    );
  }
  checkCapabilities(ctx, pi);
  const given = optString(params, 'payment_method');
  if (given !== undefined) checkPaymentMethod(given);
  const pm = given ?? (pi.payment_method as string | null);
  if (!pm) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.",
      // As Stripe does, the error carries the PaymentIntent it concerns (created, then refused at confirmation).
      {
        code: 'payment_intent_unexpected_state',
        param: 'payment_method',
        extra: { payment_intent: structuredClone(pi) },
      },
    );
  }
  pi.payment_method = pm;
  pi.last_payment_error = null;
  if (DECLINES[pm]) throw cardError(ctx, pi, pm);
  if (NEEDS_ACTION.includes(pm) && pi.status !== 'requires_action') {
    Object.assign(pi, {
      status: 'requires_action',
      next_action: {
        type: 'use_stripe_sdk',
        use_stripe_sdk: {
          type: 'three_d_secure_redirect',
          stripe_js: `${ctx.baseUrl}/_emulator/3ds/${pi.id}`,
          source: newId('src'),
        },
      },
    });
    emitEvent(ctx, 'payment_intent.requires_action', pi);
    return pi;
  }
  pi.next_action = null;
  const manual = pi.capture_method === 'manual';
  const charge = newCharge(ctx, pi, pm, !manual);
  pi.latest_charge = charge.id;
  if (manual) {
    Object.assign(pi, { status: 'requires_capture', amount_capturable: pi.amount });
    ctx.emu.store.put('charge', ctx.owner, charge);
    emitEvent(ctx, 'charge.succeeded', charge);
    emitEvent(ctx, 'payment_intent.amount_capturable_updated', pi);
    return pi;
  }
  return succeed(ctx, pi, charge);
}

/** A PaymentIntent with every field Stripe renders, awaiting a payment method unless `fields` say otherwise. */
function intentObject(ctx: RequestContext, id: string, fields: Record<string, unknown>): StripeObject {
  return {
    id,
    object: 'payment_intent',
    amount: 0,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: ctx.isPlatform ? null : ctx.emu.clientId,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: nowSeconds(),
    currency: 'usd',
    customer: null,
    description: null,
    invoice: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
    ...fields,
  };
}

/**
 * Pays an invoice the way a subscription's automatic collection does: a PaymentIntent (`invoice` set)
 * confirmed at once with the customer's card, with the same charge, fees, transfer and balance transactions
 * as any payment, and its events. Capabilities are not checked here (the subscription was accepted).
 * https://docs.stripe.com/billing/subscriptions/overview#payment-status
 */
export function payInvoice(
  ctx: RequestContext,
  invoice: StripeObject,
  opts: {
    applicationFeeAmount: number | null;
    transferData: { destination: string; amount?: number } | null;
  },
): StripeObject {
  const pi = intentObject(ctx, newId('pi'), {
    amount: invoice.total,
    application_fee_amount: opts.applicationFeeAmount,
    currency: invoice.currency,
    customer: invoice.customer,
    description: 'Subscription creation',
    invoice: invoice.id,
    payment_method: 'pm_card_visa',
    status: 'requires_confirmation',
    transfer_data: opts.transferData,
  });
  ctx.emu.store.put('payment_intent', ctx.owner, pi);
  emitEvent(ctx, 'payment_intent.created', pi);
  const charge = newCharge(ctx, pi, 'pm_card_visa', true);
  charge.invoice = invoice.id;
  pi.latest_charge = charge.id;
  return succeed(ctx, pi, charge);
}

function findIntent(ctx: RequestContext): StripeObject {
  return findOwned(ctx, 'payment_intent', ctx.pathParams.id, 'intent');
}

export function paymentIntentsRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/payment_intents',
      handler: (ctx) => {
        const p = ctx.params;
        if (p.amount === undefined)
          throw invalidRequest('Missing required param: amount.', {
            param: 'amount',
            code: 'parameter_missing',
          });
        const currency = reqString(p, 'currency');
        const captureMethod = optString(p, 'capture_method') ?? 'automatic';
        if (!CAPTURE_METHODS.includes(captureMethod)) {
          throw invalidRequest(`Invalid capture_method: ${captureMethod}`, { param: 'capture_method' });
        }
        const id = newId('pi');
        const types = optArray(p, 'payment_method_types') ?? ['card'];
        const pi = intentObject(ctx, id, {
          automatic_payment_methods: isRecord(p.automatic_payment_methods)
            ? { enabled: p.automatic_payment_methods.enabled === 'true' }
            : null,
          capture_method: captureMethod,
          confirmation_method: optString(p, 'confirmation_method') ?? 'automatic',
          currency,
          payment_method_types: types,
        });
        applyMoneyParams(ctx, pi, p);
        if (pi.payment_method) pi.status = 'requires_confirmation';
        const confirmNow = optBool(p, 'confirm') ?? false;
        if (confirmNow) checkCapabilities(ctx, pi);
        ctx.emu.store.put('payment_intent', ctx.owner, pi);
        emitEvent(ctx, 'payment_intent.created', pi);
        if (confirmNow) confirm(ctx, pi, {});
        return { body: pi };
      },
    },
    {
      method: 'GET',
      path: '/v1/payment_intents',
      handler: (ctx) => {
        const created = createdFilter(ctx.params);
        const customer = optString(ctx.params, 'customer');
        const items = ctx.emu.store.list(
          'payment_intent',
          ctx.owner,
          (pi) => created(pi.created as number) && (customer === undefined || pi.customer === customer),
        );
        return { body: paginate(items, ctx.params, '/v1/payment_intents') };
      },
    },
    { method: 'GET', path: '/v1/payment_intents/:id', handler: (ctx) => ({ body: findIntent(ctx) }) },
    {
      method: 'POST',
      path: '/v1/payment_intents/:id',
      handler: (ctx) => {
        const pi = findIntent(ctx);
        if (['succeeded', 'canceled', 'processing', 'requires_capture'].includes(pi.status as string)) {
          throw unexpectedState(
            'payment_intent',
            `You cannot update this PaymentIntent because it has a status of ${String(pi.status)}.`,
          );
        }
        applyMoneyParams(ctx, pi, ctx.params);
        if (pi.payment_method && pi.status === 'requires_payment_method') pi.status = 'requires_confirmation';
        return { body: pi };
      },
    },
    {
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      handler: (ctx) => ({ body: confirm(ctx, findIntent(ctx), ctx.params) }),
    },
    {
      method: 'POST',
      path: '/v1/payment_intents/:id/capture',
      handler: (ctx) => {
        const pi = findIntent(ctx);
        if (pi.status !== 'requires_capture') {
          throw unexpectedState(
            'payment_intent',
            `This PaymentIntent could not be captured because it has a status of ${String(pi.status)}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
          );
        }
        const capturable = pi.amount_capturable as number;
        const amount = optInt(ctx.params, 'amount_to_capture') ?? capturable;
        if (amount < 1 || amount > capturable) {
          throw invalidRequest('The amount to capture must be between 1 and the capturable amount.', {
            param: 'amount_to_capture',
            code: 'amount_too_large',
          });
        }
        const fee = optInt(ctx.params, 'application_fee_amount');
        if (fee !== undefined) {
          if (fee > amount) {
            throw invalidRequest('The application fee amount must be less than or equal to the amount.', {
              param: 'application_fee_amount',
            });
          }
          pi.application_fee_amount = fee;
        }
        const charge = findOwned(ctx, 'charge', pi.latest_charge as string);
        // Stripe releases the uncaptured remainder and reports it as refunded on the charge.
        Object.assign(charge, {
          captured: true,
          amount_captured: amount,
          amount_refunded: (charge.amount as number) - amount,
          application_fee_amount: pi.application_fee_amount,
        });
        settle(ctx, pi, charge, amount);
        Object.assign(pi, { status: 'succeeded', amount_capturable: 0, amount_received: amount });
        emitEvent(ctx, 'charge.captured', charge);
        emitEvent(ctx, 'payment_intent.succeeded', pi);
        return { body: pi };
      },
    },
    {
      method: 'POST',
      path: '/v1/payment_intents/:id/cancel',
      handler: (ctx) => {
        const pi = findIntent(ctx);
        if (!CANCELABLE.includes(pi.status as string)) {
          throw unexpectedState(
            'payment_intent',
            `You cannot cancel this PaymentIntent because it has a status of ${String(pi.status)}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
          );
        }
        const reason = optString(ctx.params, 'cancellation_reason') ?? null;
        if (pi.status === 'requires_capture' && pi.latest_charge) {
          const charge = findOwned(ctx, 'charge', pi.latest_charge as string);
          Object.assign(charge, { refunded: true, amount_refunded: charge.amount });
        }
        Object.assign(pi, {
          status: 'canceled',
          canceled_at: nowSeconds(),
          cancellation_reason: reason,
          amount_capturable: 0,
          next_action: null,
        });
        emitEvent(ctx, 'payment_intent.canceled', pi);
        return { body: pi };
      },
    },
  ];
}

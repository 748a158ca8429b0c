import { emitEvent, RequestContext, Route } from '../context';
import { invalidRequest } from '../errors';
import { newId, nowSeconds } from '../ids';
import { isRecord, mergeMetadata, optString, reqString } from '../params';
import { StripeObject } from '../store';
import { balanceOf, recordBalanceTransaction } from './balance.resource';
import { findOwned } from './crud-helpers';

/**
 * Payouts the account asks for: manual (only when its schedule is `manual`) and instant (any time, from the
 * instant-available balance), and their cancelation while pending.
 * https://docs.stripe.com/payouts#manual-payouts and https://docs.stripe.com/payouts/instant-payouts
 */

/** Stripe's instant payout fee in the emulator: 1 % (https://stripe.com/pricing#instant-payouts). */
export const INSTANT_FEE_PERCENT = 1;

const INTERVALS = ['manual', 'daily', 'weekly', 'monthly'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * Validates and normalises `settings.payouts.schedule` as Stripe does: a weekly schedule needs `weekly_anchor`, a
 * monthly one `monthly_anchor` (1-31); anchors of other intervals are dropped. https://docs.stripe.com/connect/manage-payout-schedule
 */
export function normalizePayoutSchedule(current: unknown, update: unknown): Record<string, unknown> {
  const merged = { ...(isRecord(current) ? current : {}), ...(isRecord(update) ? update : {}) };
  const interval = String(merged.interval ?? 'daily');
  if (!INTERVALS.includes(interval)) {
    throw invalidRequest(`Invalid interval: must be one of ${INTERVALS.join(', ')}`, {
      param: 'settings[payouts][schedule][interval]',
    });
  }
  const delay = merged.delay_days === 'minimum' ? 2 : Number(merged.delay_days ?? 2);
  if (!Number.isInteger(delay) || delay < 2 || delay > 365) {
    throw invalidRequest('delay_days must be an integer between 2 and 365, or `minimum`.', {
      param: 'settings[payouts][schedule][delay_days]',
    });
  }
  const out: Record<string, unknown> = { delay_days: delay, interval };
  if (interval === 'weekly') {
    const anchor = String(merged.weekly_anchor ?? '');
    if (!WEEKDAYS.includes(anchor)) {
      throw invalidRequest('A weekly payout schedule needs weekly_anchor (a day of the week).', {
        param: 'settings[payouts][schedule][weekly_anchor]',
      });
    }
    out.weekly_anchor = anchor;
  }
  if (interval === 'monthly') {
    const anchor = Number(merged.monthly_anchor);
    if (!Number.isInteger(anchor) || anchor < 1 || anchor > 31) {
      throw invalidRequest('A monthly payout schedule needs monthly_anchor between 1 and 31.', {
        param: 'settings[payouts][schedule][monthly_anchor]',
      });
    }
    out.monthly_anchor = anchor;
  }
  return out;
}

/** The normalised schedule an account update asks for (validated before anything changes), or undefined. */
export function scheduleUpdate(
  account: StripeObject,
  settings: unknown,
): Record<string, unknown> | undefined {
  const update = isRecord(settings) && isRecord(settings.payouts) ? settings.payouts.schedule : undefined;
  return isRecord(update) ? normalizePayoutSchedule(scheduleOf(account), update) : undefined;
}

export function setSchedule(account: StripeObject, schedule: Record<string, unknown>): void {
  const settings = account.settings as { payouts: Record<string, unknown> };
  settings.payouts.schedule = schedule;
}

function scheduleOf(account: StripeObject | undefined): Record<string, unknown> {
  const settings = account?.settings as { payouts?: { schedule?: Record<string, unknown> } } | undefined;
  return settings?.payouts?.schedule ?? { interval: 'daily' };
}

function bankAccountOf(account: string): string {
  return `ba_${account
    .replace(/^acct_/, '')
    .padEnd(24, '0')
    .slice(0, 24)}`;
}

function createPayout(ctx: RequestContext): StripeObject {
  const { emu, owner } = ctx;
  const amount = Number(reqString(ctx.params, 'amount'));
  const currency = reqString(ctx.params, 'currency').toLowerCase();
  const method = optString(ctx.params, 'method') ?? 'standard';
  if (!Number.isInteger(amount) || amount < 1) {
    throw invalidRequest('Invalid integer: amount must be a positive integer.', { param: 'amount' });
  }
  if (method !== 'standard' && method !== 'instant') {
    throw invalidRequest('Invalid method: must be one of standard, instant', { param: 'method' });
  }
  const account = ctx.isPlatform ? emu.platform : emu.connectedAccount(owner);
  if (method === 'standard' && scheduleOf(account).interval !== 'manual') {
    throw invalidRequest(
      'You cannot create manual payouts while automatic payouts are enabled on this account (settings[payouts][schedule][interval] is not manual).',
      { code: 'payouts_not_allowed' },
    );
  }
  if (account && account.payouts_enabled !== true && !ctx.isPlatform) {
    throw invalidRequest('Payouts are not enabled on this account.', { code: 'payouts_not_allowed' });
  }
  const available = balanceOf(emu, owner, currency, 'available');
  if (available < amount) {
    throw invalidRequest(
      `You have insufficient funds in your Stripe account for this payout (available ${available} ${currency}, asked ${amount}).`,
      { code: 'balance_insufficient' },
    );
  }
  const id = `po_${newId('x').slice(2)}`;
  const created = nowSeconds();
  const fee = method === 'instant' ? Math.ceil((amount * INSTANT_FEE_PERCENT) / 100) : 0;
  const own = recordBalanceTransaction(emu, owner, {
    amount: -amount,
    currency,
    type: 'payout',
    source: id,
    description: optString(ctx.params, 'description') ?? null,
    feeDetails: fee
      ? [{ amount: fee, application: null, currency, description: 'Instant payout fee', type: 'stripe_fee' }]
      : [],
    availableOn: created,
  });
  const payout = emu.store.put('payout', owner, {
    id,
    object: 'payout',
    amount,
    arrival_date: method === 'instant' ? created : Math.floor(created / 86_400) * 86_400 + 2 * 86_400,
    automatic: false,
    balance_transaction: own.id,
    created,
    currency,
    description: optString(ctx.params, 'description') ?? null,
    destination: bankAccountOf(owner),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: mergeMetadata({}, ctx.params.metadata),
    method,
    original_payout: null,
    reconciliation_status: 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: optString(ctx.params, 'statement_descriptor') ?? null,
    status: 'pending',
    type: method === 'instant' ? 'card' : 'bank_account',
  });
  emitEvent(ctx, 'payout.created', payout);
  return payout;
}

export function manualPayoutsRoutes(): Route[] {
  return [
    { method: 'POST', path: '/v1/payouts', handler: (ctx) => ({ body: createPayout(ctx) }) },
    {
      method: 'POST',
      path: '/v1/payouts/:id/cancel',
      handler: (ctx) => {
        const payout = findOwned(ctx, 'payout', ctx.pathParams.id, 'payout');
        // https://docs.stripe.com/api/payouts/cancel: only pending, non-instant payouts.
        if (payout.status !== 'pending' || payout.method === 'instant') {
          throw invalidRequest(
            `Payout ${payout.id} cannot be canceled: only pending standard payouts can be (status ${String(payout.status)}, method ${String(payout.method)}).`,
            { code: 'payout_not_cancelable' },
          );
        }
        const back = recordBalanceTransaction(ctx.emu, ctx.owner, {
          amount: payout.amount as number,
          currency: payout.currency as string,
          type: 'payout_cancel',
          category: 'payout_reversal',
          source: payout.id,
          availableOn: nowSeconds(),
        });
        const previous = { status: payout.status };
        Object.assign(payout, {
          status: 'canceled',
          reversed_by: null,
          failure_balance_transaction: back.id,
        });
        emitEvent(ctx, 'payout.updated', payout, ctx.owner, previous);
        emitEvent(ctx, 'payout.canceled', payout);
        return { body: payout };
      },
    },
  ];
}

import { EmulatorState, Route } from '../context';
import { invalidRequest, resourceMissing } from '../errors';
import { newId, nowSeconds } from '../ids';
import { createdFilter, optString } from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';
import { findOwned, listRoute, retrieveRoute } from './crud-helpers';

/**
 * Balance transactions: one per money movement, on the account whose balance moves.
 * https://docs.stripe.com/api/balance_transactions/object and https://docs.stripe.com/reports/reporting-categories
 */
const CATEGORY_OF_TYPE: Record<string, string> = {
  charge: 'charge',
  payment: 'charge',
  refund: 'refund',
  payment_refund: 'refund',
  application_fee: 'platform_earning',
  application_fee_refund: 'platform_earning_refund',
  transfer: 'transfer',
  transfer_refund: 'transfer_reversal',
  payout: 'payout',
  payout_failure: 'payout_reversal',
};

export interface FeeDetail {
  amount: number;
  application: string | null;
  currency: string;
  description: string;
  type: 'application_fee' | 'stripe_fee' | 'tax';
}

export function stripeFeeDetail(amount: number, currency: string): FeeDetail {
  return { amount, application: null, currency, description: 'Stripe processing fees', type: 'stripe_fee' };
}

export function applicationFeeDetail(amount: number, currency: string, application: string): FeeDetail {
  return { amount, application, currency, description: 'Application fee', type: 'application_fee' };
}

export interface BalanceEntry {
  amount: number;
  currency: string;
  type: string;
  source: string;
  /** What the account pays on this movement; `fee` is their sum and `net` = amount - fee. */
  feeDetails?: FeeDetail[];
  /** Defaults to the type's category. */
  category?: string;
  description?: string | null;
  /** Defaults to now + the `available_delay_seconds` setting. */
  availableOn?: number;
}

/** `status` follows `available_on`: pending until then, available after. */
export function refreshStatus(txn: StripeObject): StripeObject {
  txn.status = (txn.available_on as number) <= nowSeconds() ? 'available' : 'pending';
  return txn;
}

/** Records a balance transaction for `owner` (the platform or a connected account). */
export function recordBalanceTransaction(
  emu: EmulatorState,
  owner: string,
  entry: BalanceEntry,
): StripeObject {
  const feeDetails = (entry.feeDetails ?? []).filter((d) => d.amount !== 0);
  const fee = feeDetails.reduce((sum, d) => sum + d.amount, 0);
  const created = nowSeconds();
  return emu.store.put(
    'balance_transaction',
    owner,
    refreshStatus({
      id: newId('txn'),
      object: 'balance_transaction',
      amount: entry.amount,
      available_on: entry.availableOn ?? created + emu.settings.available_delay_seconds,
      created,
      currency: entry.currency,
      description: entry.description ?? null,
      exchange_rate: null,
      fee,
      fee_details: feeDetails,
      net: entry.amount - fee,
      reporting_category: entry.category ?? CATEGORY_OF_TYPE[entry.type] ?? 'other_adjustment',
      source: entry.source,
      status: 'pending',
      type: entry.type,
    }),
  );
}

/** The account's balance per currency: the sum of `net` over its available (or pending) transactions. */
export function balanceOf(
  emu: EmulatorState,
  owner: string,
  currency: string,
  status: 'available' | 'pending' | 'total',
): number {
  let sum = 0;
  for (const txn of emu.store.list('balance_transaction', owner, (t) => t.currency === currency)) {
    if (status === 'total' || refreshStatus(txn).status === status) sum += txn.net as number;
  }
  return sum;
}

/** Stripe's answer when the balance cannot cover a transfer (https://docs.stripe.com/error-codes/balance-insufficient). */
export function balanceInsufficient(message?: string): Error {
  return invalidRequest(
    message ??
      'You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card (pm_card_bypassPending). For more details, see https://stripe.com/docs/testing#available-balance',
    { code: 'balance_insufficient' },
  );
}

function balanceBody(emu: EmulatorState, owner: string): Record<string, unknown> {
  const sums = new Map<string, { available: number; pending: number }>();
  for (const txn of emu.store.list('balance_transaction', owner)) {
    const s = sums.get(txn.currency as string) ?? { available: 0, pending: 0 };
    s[refreshStatus(txn).status as 'available' | 'pending'] += txn.net as number;
    sums.set(txn.currency as string, s);
  }
  if (sums.size === 0) sums.set('usd', { available: 0, pending: 0 });
  const side = (k: 'available' | 'pending') =>
    [...sums].map(([currency, s]) => ({ amount: s[k], currency, source_types: { card: s[k] } }));
  const body: Record<string, unknown> = {
    object: 'balance',
    available: side('available'),
    livemode: false,
    pending: side('pending'),
  };
  // Connected accounts with a debit card can pay out their available balance at once (https://docs.stripe.com/payouts/instant-payouts).
  if (owner !== emu.platformId) body.instant_available = side('available');
  return body;
}

/** Stripe's refusal to list a payout's transactions before its reconciliation completes. */
function reconciliationNotReady(payout: StripeObject): Error {
  if (!payout.automatic) {
    return invalidRequest(
      'Balance transaction history can only be filtered on automatic payouts, not manual ones.',
      { param: 'payout' },
    );
  }
  return invalidRequest(
    `The balance transactions of payout ${payout.id} are not available until its reconciliation is completed (reconciliation_status: ${String(payout.reconciliation_status)}). Try again later.`,
    { code: 'payout_reconciliation_not_ready', param: 'payout' },
  );
}

export function balanceRoutes(): Route[] {
  return [
    { method: 'GET', path: '/v1/balance', handler: (ctx) => ({ body: balanceBody(ctx.emu, ctx.owner) }) },
    {
      method: 'GET',
      path: '/v1/balance_transactions',
      handler: (ctx) => {
        const p = ctx.params;
        const created = createdFilter(p);
        const [currency, source, type] = ['currency', 'source', 'type'].map((f) => optString(p, f));
        const payoutId = optString(p, 'payout');
        if (payoutId !== undefined) {
          const payout = ctx.emu.store.find('payout', payoutId, ctx.owner);
          if (!payout) throw resourceMissing('payout', payoutId, 'payout');
          if (payout.reconciliation_status !== 'completed') throw reconciliationNotReady(payout);
        }
        const items = ctx.emu.store.list(
          'balance_transaction',
          ctx.owner,
          (t) =>
            created(t.created as number) &&
            (currency === undefined || t.currency === currency) &&
            (source === undefined || t.source === source) &&
            (type === undefined || t.type === type) &&
            (payoutId === undefined || ctx.emu.paidOutBy.get(t.id) === payoutId),
        );
        for (const t of items) refreshStatus(t);
        return { body: paginate(items, p, '/v1/balance_transactions') };
      },
    },
    {
      method: 'GET',
      path: '/v1/balance_transactions/:id',
      handler: (ctx) => ({
        body: refreshStatus(findOwned(ctx, 'balance_transaction', ctx.pathParams.id, 'id')),
      }),
    },
    listRoute('charge', '/v1/charges', ['payment_intent', 'customer', 'transfer_group']),
    retrieveRoute('charge', '/v1/charges/:id', 'charge'),
  ];
}

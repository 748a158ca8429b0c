import { EmulatorState, Route } from '../context';
import { StripeApiError } from '../errors';
import { nowSeconds, randomToken } from '../ids';
import { createdFilter, mergeMetadata, optString } from '../params';
import { paginate } from '../pagination';
import { StripeObject } from '../store';
import { recordBalanceTransaction, refreshStatus } from './balance.resource';
import { findOwned, retrieveRoute } from './crud-helpers';

/**
 * Automatic payouts of an account's available balance, per currency, and their life:
 * pending → in_transit → paid → reconciliation completed (or failed).
 * https://docs.stripe.com/payouts and https://docs.stripe.com/payouts/reconciliation
 */
export const PAYOUT_STAGES = ['pending', 'in_transit', 'paid', 'reconciled'] as const;
export type PayoutStage = (typeof PAYOUT_STAGES)[number] | 'failed';

/** https://docs.stripe.com/api/payouts/failures */
const FAILURES: Record<string, string> = {
  account_closed: 'The bank account has been closed.',
  account_frozen: 'The bank account has been frozen.',
  could_not_process: 'The bank could not process this payout.',
  insufficient_funds: 'Your Stripe account has insufficient funds to cover the payout.',
  no_account:
    'The bank account details on file are probably incorrect. No bank account could be located with those details.',
};

/** Failures that mean the bank account is unusable: Stripe then asks for a new one. */
const BANK_ACCOUNT_FAILURES = new Set(['account_closed', 'account_frozen', 'no_account']);

/**
 * Stripe disables payouts until the account gives a new external account, and says so in its requirements.
 * https://docs.stripe.com/payouts/payout-failures
 */
function disablePayouts(emu: EmulatorState, owner: string): void {
  const account = emu.connectedAccount(owner);
  if (!account) return;
  const requirements = account.requirements as Record<string, unknown>;
  const previous = { payouts_enabled: account.payouts_enabled, requirements: structuredClone(requirements) };
  for (const list of ['currently_due', 'past_due', 'eventually_due']) {
    const due = (requirements[list] as string[] | undefined) ?? [];
    if (!due.includes('external_account')) requirements[list] = [...due, 'external_account'];
  }
  account.payouts_enabled = false;
  emu.webhooks.emit('account.updated', account, owner, null, previous);
}

function controlError(status: number, message: string): StripeApiError {
  return new StripeApiError(status, { error: { type: 'invalid_request_error', message } });
}

function stageOf(payout: StripeObject): number {
  if (payout.reconciliation_status === 'completed') return 3;
  return PAYOUT_STAGES.indexOf(payout.status as (typeof PAYOUT_STAGES)[number]);
}

/** The fake bank account every payout of an account goes to (stable per account). */
function bankAccountOf(account: string): string {
  return `ba_${account
    .replace(/^acct_/, '')
    .padEnd(24, '0')
    .slice(0, 24)}`;
}

function emit(
  emu: EmulatorState,
  type: string,
  payout: StripeObject,
  owner: string,
  previous?: Record<string, unknown>,
): void {
  emu.webhooks.emit(type, payout, owner, null, previous);
}

/**
 * Moves a payout forward to `to`, sending what Stripe sends on the way: payout.updated for each status
 * change, payout.paid, payout.reconciliation_completed, or payout.failed with a payout_failure
 * balance transaction that gives the money back.
 */
export function advancePayout(
  emu: EmulatorState,
  owner: string,
  payout: StripeObject,
  to: PayoutStage,
  failureCode = 'account_closed',
): StripeObject {
  if (payout.status === 'failed' || payout.status === 'canceled') {
    throw controlError(400, `payout ${payout.id} is ${String(payout.status)}: it cannot move`);
  }
  if (to === 'failed') {
    if (!FAILURES[failureCode])
      throw controlError(400, `failure_code must be one of ${Object.keys(FAILURES).join(', ')}`);
    const failure = recordBalanceTransaction(emu, owner, {
      amount: payout.amount as number,
      currency: payout.currency as string,
      type: 'payout_failure',
      source: payout.id,
      availableOn: nowSeconds(),
    });
    const previous = {
      status: payout.status,
      failure_code: null,
      failure_message: null,
      failure_balance_transaction: null,
    };
    Object.assign(payout, {
      status: 'failed',
      failure_code: failureCode,
      failure_message: FAILURES[failureCode],
      failure_balance_transaction: failure.id,
      reconciliation_status: payout.reconciliation_status === 'completed' ? 'completed' : 'not_applicable',
    });
    emit(emu, 'payout.updated', payout, owner, previous);
    emit(emu, 'payout.failed', payout, owner);
    if (BANK_ACCOUNT_FAILURES.has(failureCode)) disablePayouts(emu, owner);
    return payout;
  }
  const target = PAYOUT_STAGES.indexOf(to);
  if (target < 0) throw controlError(400, `to must be one of ${[...PAYOUT_STAGES, 'failed'].join(', ')}`);
  for (let stage = stageOf(payout) + 1; stage <= target; stage++) {
    if (stage === 3) {
      payout.reconciliation_status = 'completed';
      emit(emu, 'payout.reconciliation_completed', payout, owner, { reconciliation_status: 'in_progress' });
      continue;
    }
    const previous = { status: payout.status };
    payout.status = PAYOUT_STAGES[stage];
    emit(emu, 'payout.updated', payout, owner, previous);
    if (payout.status === 'paid') emit(emu, 'payout.paid', payout, owner);
  }
  return payout;
}

/**
 * An automatic payout run for one account: each currency's available balance transactions not yet paid out
 * go into one payout (when their sum is positive), which carries them and its own `payout` transaction.
 */
export function runPayouts(emu: EmulatorState, accountId: string, until: PayoutStage): StripeObject[] {
  if (![...PAYOUT_STAGES, 'failed'].includes(until)) {
    throw controlError(400, `until must be one of ${[...PAYOUT_STAGES, 'failed'].join(', ')}`);
  }
  const isPlatform = accountId === emu.platformId;
  const account = isPlatform ? emu.platform : emu.connectedAccount(accountId);
  if (!account) throw controlError(404, `No such account: '${accountId}'`);
  if (!isPlatform && emu.settings.enforce_capabilities && account.payouts_enabled !== true) {
    throw controlError(
      400,
      `payouts are not enabled on ${accountId} (its transfers capability is not active)`,
    );
  }
  const byCurrency = new Map<string, StripeObject[]>();
  for (const txn of emu.store.list('balance_transaction', accountId)) {
    if (emu.paidOutBy.has(txn.id) || refreshStatus(txn).status !== 'available') continue;
    const list = byCurrency.get(txn.currency as string) ?? [];
    list.push(txn);
    byCurrency.set(txn.currency as string, list);
  }
  const payouts: StripeObject[] = [];
  for (const [currency, txns] of byCurrency) {
    const amount = txns.reduce((sum, t) => sum + (t.net as number), 0);
    if (amount <= 0) continue;
    const id = `po_${randomToken(24)}`;
    const created = nowSeconds();
    const own = recordBalanceTransaction(emu, accountId, {
      amount: -amount,
      currency,
      type: 'payout',
      source: id,
      description: 'STRIPE PAYOUT',
      availableOn: created,
    });
    for (const t of [...txns, own]) emu.paidOutBy.set(t.id, id);
    const payout = emu.store.put('payout', accountId, {
      id,
      object: 'payout',
      amount,
      arrival_date: Math.floor(created / 86_400) * 86_400 + 2 * 86_400,
      automatic: true,
      balance_transaction: own.id,
      created,
      currency,
      description: 'STRIPE PAYOUT',
      destination: bankAccountOf(accountId),
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      livemode: false,
      metadata: {},
      method: 'standard',
      original_payout: null,
      reconciliation_status: 'in_progress',
      reversed_by: null,
      source_type: 'card',
      statement_descriptor: null,
      status: 'pending',
      type: 'bank_account',
    });
    emit(emu, 'payout.created', payout, accountId);
    payouts.push(advancePayout(emu, accountId, payout, until));
  }
  return payouts;
}

export function payoutsRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/payouts',
      handler: (ctx) => {
        const created = createdFilter(ctx.params);
        const arrival = createdFilter(ctx.params, 'arrival_date');
        const status = optString(ctx.params, 'status');
        const destination = optString(ctx.params, 'destination');
        const items = ctx.emu.store.list(
          'payout',
          ctx.owner,
          (p) =>
            created(p.created as number) &&
            arrival(p.arrival_date as number) &&
            (status === undefined || p.status === status) &&
            (destination === undefined || p.destination === destination),
        );
        return { body: paginate(items, ctx.params, '/v1/payouts') };
      },
    },
    retrieveRoute('payout', '/v1/payouts/:id', 'payout'),
    {
      method: 'POST',
      path: '/v1/payouts/:id',
      handler: (ctx) => {
        const payout = findOwned(ctx, 'payout', ctx.pathParams.id, 'payout');
        if (ctx.params.metadata !== undefined)
          payout.metadata = mergeMetadata(payout.metadata, ctx.params.metadata);
        return { body: payout };
      },
    },
  ];
}

import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { reconciliationConfig } from '@app/config';
import type { StripePayout } from '@app/stripe-gateway';
import { DriftInputs } from './drift/drift-inputs';
import { idOf, noDrift } from './drift/drift.types';
import { carriedBy, unlinkedPayoutItems } from './drift/payout.drift';
import { JobStripe } from './job-stripe';
import { JobContext, StepResult, ownerOf } from './reconciliation-job';

/** Stripe lists what a payout carried only once its reconciliation completed. https://docs.stripe.com/payouts/reconciliation */
const settled = (p: StripePayout): boolean => p.automatic && p.reconciliation_status === 'completed';

/**
 * The `po:account` phase: the account's paid automatic payouts, one payout's balance transactions a step; every
 * transaction a payout carried must lead back to one of our routes.
 */
@Injectable()
export class PayoutSweep {
  constructor(
    private readonly inputs: DriftInputs,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async step(ctx: JobContext, stripe: JobStripe): Promise<StepResult> {
    const after = ctx.job.cursor;
    const none = noDrift();
    if (!ctx.payouts || ctx.payouts.after !== after || !ctx.payouts.list.length) {
      const list = await stripe.window('payouts', after, { status: 'paid', onAccount: true });
      ctx.payouts = { after, list: list.data.filter(settled), hasMore: list.has_more };
      if (!ctx.payouts.list.length) {
        const last = list.data[list.data.length - 1];
        if (list.has_more && last) return { ...none, phase: 'po:account', cursor: last.id, subCursor: null };
        return { ...none, phase: 'po:state', cursor: null, subCursor: null };
      }
    }
    const payout = ctx.payouts.list[0];
    const bts = await stripe.call((gateway) =>
      gateway.listBalanceTransactions(
        {
          payout: payout.id,
          limit: this.cfg.pageSize,
          ...(ctx.job.sub_cursor ? { starting_after: ctx.job.sub_cursor } : {}),
        },
        stripe.account,
      ),
    );
    const carried = carriedBy(bts.data);
    const findings = unlinkedPayoutItems(payout, carried, await this.linkedSources(ctx, stripe, carried));
    const last = bts.data[bts.data.length - 1];
    if (bts.has_more && last)
      return { findings, matches: [], phase: 'po:account', cursor: after, subCursor: last.id };
    // This payout is done: the next step starts the next one (same cached page) or lists the next page.
    ctx.payouts = { after: payout.id, list: ctx.payouts.list.slice(1), hasMore: ctx.payouts.hasMore };
    if (!ctx.payouts.list.length && !ctx.payouts.hasMore)
      return { findings, matches: [], phase: 'po:state', cursor: null, subCursor: null };
    return { findings, matches: [], phase: 'po:account', cursor: payout.id, subCursor: null };
  }

  /** The sources of carried balance transactions that lead back to one of our routes. */
  private async linkedSources(
    ctx: JobContext,
    stripe: JobStripe,
    carried: { source: unknown }[],
  ): Promise<Set<string>> {
    const sources = carried.map((bt) => idOf(bt.source));
    const known = await this.inputs.linkedRoutes(ownerOf(ctx), sources);
    const out = new Set<string>();
    for (const source of sources) {
      if (!source) continue;
      if (known.has(source) || (await this.linkedThroughTransfer(ctx, stripe, source))) out.add(source);
    }
    return out;
  }

  /**
   * A destination payment (`py_`) from before the window: payment → its transfer → the platform charge → our
   * route. https://docs.stripe.com/connect/payouts-connected-accounts#reconcile
   */
  private async linkedThroughTransfer(ctx: JobContext, stripe: JobStripe, source: string): Promise<boolean> {
    const isLinked = async (id: string | null): Promise<boolean> =>
      Boolean(id) && (await this.inputs.linkedRoutes(ownerOf(ctx), [id])).size > 0;
    let paymentId = source;
    if (source.startsWith('pyr_')) {
      // A reversal's refund of the payment: back to the payment it refunded.
      const refund = await stripe.retrieve((g) => g.retrieveRefund(source, stripe.account));
      paymentId = idOf(refund?.charge) ?? '';
      if (await isLinked(paymentId)) return true;
    }
    if (!paymentId.startsWith('py_')) return false;
    const payment = await stripe.retrieve((g) => g.retrieveCharge(paymentId, stripe.account));
    const transferId = idOf(payment?.source_transfer);
    if (!transferId) return false;
    if (await isLinked(transferId)) return true;
    const transfer = await stripe.retrieve((g) => g.retrieveTransfer(transferId));
    return isLinked(idOf(transfer?.source_transaction));
  }
}

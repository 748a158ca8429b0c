import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { reconciliationConfig } from '@app/config';
import type { StripeBalanceTransaction, StripePayout } from '@app/stripe-gateway';
import { PayoutSourcesService } from '../payouts/payout-sources.service';
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
    private readonly sources: PayoutSourcesService,
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
          // The source inline, as the payout's transactions answer reads it: the join needs no read per payment.
          expand: ['data.source', 'data.source.charge'],
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

  /**
   * The sources of carried balance transactions that lead back to our rows: this job's links and our routes, else
   * the payout transactions join (destination payments through their transfer, reversals, dispute recovery), whose
   * few list reads go through the job's pacing. https://docs.stripe.com/connect/payouts-connected-accounts#reconcile
   */
  private async linkedSources(
    ctx: JobContext,
    stripe: JobStripe,
    carried: StripeBalanceTransaction[],
  ): Promise<Set<string>> {
    const known = await this.inputs.linkedRoutes(
      ownerOf(ctx),
      carried.map((bt) => idOf(bt.source)),
    );
    const out = new Set([...known.keys()]);
    const rest = carried.filter((bt) => !known.has(idOf(bt.source) ?? ''));
    if (!rest.length) return out;
    const links = await this.sources.links(ctx.job.tenant_id, ctx.job.stripe_account_id, rest, (fn) =>
      stripe.call(fn),
    );
    for (const bt of rest) {
      const l = links.get(bt.id);
      const source = idOf(bt.source);
      if (source && l && (l.payment_id || l.refund_id || l.transfer_id || l.dispute_id)) out.add(source);
    }
    return out;
  }
}

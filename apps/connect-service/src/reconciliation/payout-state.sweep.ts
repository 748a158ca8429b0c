import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { reconciliationConfig } from '@app/config';
import type { StripeBalanceTransaction } from '@app/stripe-gateway';
import { PayoutReconciler } from '../payouts/payout-reconciler.service';
import { payoutFindings } from './drift/payout-state.drift';
import { JobStripe } from './job-stripe';
import { JobContext, StepResult, stepTo } from './reconciliation-job';

/**
 * The `po:state` phase: the account's payouts of the window (every status) against our payouts rows, a page a step,
 * through the payouts' own reconciler: a payout we lack, a status that lags, an amount or a content sum that differs.
 */
@Injectable()
export class PayoutStateSweep {
  constructor(
    private readonly reconciler: PayoutReconciler,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async step(ctx: JobContext, stripe: JobStripe): Promise<StepResult> {
    const page = await stripe.window('payouts', ctx.job.cursor, { onAccount: true });
    const drift = await this.reconciler.driftOf(ctx.job.tenant_id, page.data, (id) =>
      this.transactionsOf(stripe, id),
    );
    return stepTo({ findings: payoutFindings(drift, page.data), matches: [] }, 'po:state', 'local', page);
  }

  private async transactionsOf(stripe: JobStripe, payoutId: string): Promise<StripeBalanceTransaction[]> {
    const out: StripeBalanceTransaction[] = [];
    let after: string | undefined;
    for (;;) {
      const list = await stripe.call((g) =>
        g.listBalanceTransactions(
          { payout: payoutId, limit: this.cfg.pageSize, ...(after ? { starting_after: after } : {}) },
          stripe.account,
        ),
      );
      out.push(...list.data);
      after = list.data[list.data.length - 1]?.id;
      if (!list.has_more || !after) return out;
    }
  }
}

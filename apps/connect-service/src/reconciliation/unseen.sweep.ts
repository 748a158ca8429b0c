import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { reconciliationConfig } from '@app/config';
import { ChargeType, PaymentRouteEntity, PaymentRouteType } from '@app/database';
import { DriftFamilies } from './drift/drift-families';
import { DriftInputs } from './drift/drift-inputs';
import { Comparison, noDrift } from './drift/drift.types';
import { missingOnStripe, stripeIdOf, unseenRoute } from './drift/unseen.drift';
import { JobStripe } from './job-stripe';
import { ReconciliationMatchesRepository } from './reconciliation-matches.repository';
import { JobContext, StepResult, ownerOf } from './reconciliation-job';

/** The `local` phase: our routes of the window that no Stripe list showed, a page at a time by id. */
@Injectable()
export class UnseenSweep {
  constructor(
    private readonly inputs: DriftInputs,
    private readonly families: DriftFamilies,
    private readonly matches: ReconciliationMatchesRepository,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async step(ctx: JobContext, stripe: JobStripe): Promise<StepResult> {
    const ids = await this.matches.unseenRouteIds(
      {
        jobId: ctx.job.id,
        tenantId: ctx.job.tenant_id,
        from: ctx.run.window_from,
        to: ctx.run.window_to,
        after: ctx.job.cursor,
      },
      this.cfg.pageSize,
    );
    const routes = await this.inputs.routesBy(ownerOf(ctx), ids, 'id');
    routes.sort((a, b) => (a.id < b.id ? -1 : 1));
    const out = noDrift();
    for (const route of routes) {
      const one = await this.check(ctx, stripe, route);
      out.findings.push(...one.findings);
      out.matches.push(...one.matches);
    }
    const last = routes[routes.length - 1];
    if (ids.length === this.cfg.pageSize && last)
      return { ...out, phase: 'local', cursor: last.id, subCursor: null };
    return { ...out, phase: 'done', cursor: null, subCursor: null };
  }

  /** Re-reads the route's object (404: missing on Stripe), then compares it like a listed one. */
  private async check(ctx: JobContext, stripe: JobStripe, route: PaymentRouteEntity): Promise<Comparison> {
    const known = unseenRoute(route);
    if (known) return { findings: known, matches: [] };
    const id = stripeIdOf(route) as string;
    const owner = ownerOf(ctx);
    const onAccount = route.charge_type === ChargeType.Direct ? stripe.account : undefined;
    const missing = { findings: [missingOnStripe(route, id)], matches: [] };
    switch (route.type) {
      case PaymentRouteType.Payment: {
        const pi = await stripe.retrieve((g) => g.retrievePaymentIntent(id, onAccount));
        return pi ? this.families.intents(owner, [pi], null) : missing;
      }
      case PaymentRouteType.Refund: {
        const refund = await stripe.retrieve((g) => g.retrieveRefund(id, onAccount));
        return refund ? this.families.refunds(owner, [refund]) : missing;
      }
      default: {
        const transfer = await stripe.retrieve((g) => g.retrieveTransfer(id));
        return transfer ? this.families.transfers(owner, [transfer]) : missing;
      }
    }
  }
}

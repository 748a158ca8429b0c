import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { reconciliationConfig } from '@app/config';
import type { StripeEvent, StripeList, WindowList } from '@app/stripe-gateway';
import { StripeGateway } from '@app/stripe-gateway';
import { PaymentsWebhookHandlers } from '../payments/payments-webhook.handlers';
import { RequestPacer } from './drift-rules';
import { DriftFamilies } from './drift/drift-families';
import { Comparison, JobOwner, Replay, idOf, noDrift } from './drift/drift.types';
import { JobStripe } from './job-stripe';
import { PayoutReconciler } from '../payouts/payout-reconciler.service';
import { PayoutStateSweep } from './payout-state.sweep';
import { PayoutSweep } from './payout.sweep';
import { ReconciliationPagesRepository } from './reconciliation-pages.repository';
import { JobContext, Phase, StepResult, nextPhase, ownerOf, stepTo } from './reconciliation-job';
import { UnseenSweep } from './unseen.sweep';

export { PHASES } from './reconciliation-job';
export type { JobContext, Phase, StepResult } from './reconciliation-job';

/** How long a job waits for a platform page another job of its run is fetching before it fetches it itself. */
const SHARED_PAGE_WAIT_MS = 30_000;

/**
 * A list phase: the Stripe list it pages through, on whose side (`account`: the connected account's;
 * `platform`: ours, one page shared by every job of a run over all tenants; `platform, own`: ours, filtered to
 * this tenant by Stripe), and what compares a page.
 */
interface ListPhase {
  list: WindowList;
  on: 'account' | 'platform' | 'platform, own';
  compare: (o: JobOwner, page: never[]) => Promise<Comparison>;
}

/**
 * The phase machine: each step reads one page of one list (paced and counted), compares it with our rows and
 * says where the job goes next. Nothing here writes business rows; the worker stores the findings, the matches
 * and the next position in one transaction.
 */
@Injectable()
export class ReconciliationEngine {
  private readonly pacer: RequestPacer;

  // prettier-ignore
  private readonly lists: Record<Exclude<Phase, 'po:account' | 'po:state' | 'local' | 'done'>, ListPhase> = {
    'pi:account':   { list: 'payment_intents',  on: 'account',       compare: (o, p) => this.drift.intents(o, p, true) },
    'pi:platform':  { list: 'payment_intents',  on: 'platform',      compare: (o, p) => this.drift.intents(o, p, false) },
    're:account':   { list: 'refunds',          on: 'account',       compare: (o, p) => this.drift.refunds(o, p) },
    're:platform':  { list: 'refunds',          on: 'platform',      compare: (o, p) => this.drift.refunds(o, p) },
    'ch:account':   { list: 'charges',          on: 'account',       compare: (o, p) => this.drift.charges(o, p, true) },
    'ch:platform':  { list: 'charges',          on: 'platform',      compare: (o, p) => this.drift.charges(o, p, false) },
    'fee:platform': { list: 'application_fees', on: 'platform',      compare: (o, p) => this.drift.fees(o, p) },
    'tr:platform':  { list: 'transfers',        on: 'platform, own', compare: (o, p) => this.drift.transfers(o, p) },
    'sub:account':  { list: 'subscriptions',    on: 'account',       compare: (o, p) => this.drift.subscriptions(o, p) },
    'in:account':   { list: 'invoices',         on: 'account',       compare: (o, p) => this.drift.invoices(o, p) },
  };

  constructor(
    private readonly gateway: StripeGateway,
    private readonly handlers: PaymentsWebhookHandlers,
    private readonly drift: DriftFamilies,
    private readonly payouts: PayoutSweep,
    private readonly payoutStates: PayoutStateSweep,
    private readonly payoutReconciler: PayoutReconciler,
    private readonly unseen: UnseenSweep,
    private readonly pages: ReconciliationPagesRepository,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {
    this.pacer = new RequestPacer(cfg.stripeRps);
  }

  async step(ctx: JobContext): Promise<StepResult> {
    const phase = ctx.job.phase as Phase;
    const stripe = new JobStripe(this.gateway, this.pacer, ctx, this.cfg.pageSize);
    switch (phase) {
      case 'po:account':
        return this.payouts.step(ctx, stripe);
      case 'po:state':
        return this.payoutStates.step(ctx, stripe);
      case 'local':
        return this.unseen.step(ctx, stripe);
      case 'done':
        return { ...noDrift(), phase: 'done', cursor: null, subCursor: null };
      default: {
        const spec = this.lists[phase];
        const page = await this.listPage(ctx, stripe, spec);
        return stepTo(await spec.compare(ownerOf(ctx), page.data as never[]), phase, nextPhase(phase), page);
      }
    }
  }

  /** Replays the missed webhook through its handler, in the page's transaction; true when it changed our row. */
  async heal(ctx: JobContext, replay: Replay, manager: EntityManager): Promise<boolean> {
    if (replay.handler === 'payout')
      return this.payoutReconciler.heal(manager, ctx.job.tenant_id, replay.object, ctx.job.stripe_account_id);
    const input = {
      manager,
      event: this.synthetic(ctx, replay.type, replay.object),
      tenantId: ctx.job.tenant_id,
      inboxId: `reconciliation:${ctx.run.id}`,
    };
    const outcome =
      replay.handler === 'payment_intent'
        ? await this.handlers.onPaymentIntent(input)
        : await this.handlers.onRefund(input);
    return outcome === 'applied';
  }

  /**
   * One list page. A platform list in a run over every tenant is the same page for all of its jobs: the first job
   * to need it fetches it and keeps it (reconciliation_pages) for the others, so N tenants do not read it N times.
   */
  private async listPage(
    ctx: JobContext,
    stripe: JobStripe,
    spec: ListPhase,
  ): Promise<StripeList<{ id: string }>> {
    const fetch = (): Promise<StripeList<{ id: string }>> =>
      stripe.window(spec.list, ctx.job.cursor, {
        onAccount: spec.on === 'account',
        ...(spec.on === 'platform, own' ? { destination: ctx.job.stripe_account_id } : {}),
      });
    if (spec.on !== 'platform' || ctx.run.tenant_id !== null) return fetch();
    const key = { runId: ctx.run.id, phase: ctx.job.phase, cursor: ctx.job.cursor ?? '' };
    // The first job to claim the page fetches it; the others wait for it (never holding a transaction meanwhile).
    if (await this.pages.claim(key)) {
      try {
        const list = await fetch();
        await this.pages.store(key, list);
        return list;
      } catch (err) {
        await this.pages.release(key);
        throw err;
      }
    }
    const deadline = Date.now() + SHARED_PAGE_WAIT_MS;
    while (Date.now() < deadline) {
      const kept = await this.pages.read<StripeList<{ id: string }>>(key);
      if (kept?.data) return kept.data;
      if (!kept) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The claimer failed or is slow (a stopped replica): fetch it ourselves.
    return fetch();
  }

  private synthetic(ctx: JobContext, type: string, object: unknown): StripeEvent {
    // A reconciliation heal replays the webhook Stripe sent (or would have): same handler, same ConnectEvents.
    return {
      id: `recon_${ctx.run.id}_${idOf(object) ?? 'object'}`,
      object: 'event',
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
      api_version: null,
      pending_webhooks: 0,
      request: { id: null, idempotency_key: null },
    } as unknown as StripeEvent;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { ErrorCode, ServiceException } from '@app/common';
import { reconciliationConfig } from '@app/config';
import {
  ChargeType,
  DriftCategory,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
  ReconciliationJobEntity,
  ReconciliationRunEntity,
} from '@app/database';
import type {
  StripeApplicationFee,
  StripeBalanceTransaction,
  StripeCharge,
  StripeEvent,
  StripeInvoice,
  StripeList,
  StripePaymentIntent,
  StripePayout,
  StripeReadOptions,
  StripeRefund,
  StripeSubscription,
  StripeTransfer,
} from '@app/stripe-gateway';
import { StripeGateway } from '@app/stripe-gateway';
import { PaymentsWebhookHandlers } from '../payments/payments-webhook.handlers';
import {
  RequestPacer,
  destinationTransferMatches,
  missedIntentEvent,
  refundHealable,
  routeStatusForSubscription,
  routeStatusesForIntent,
} from './drift-rules';
import { routeStatusForRefund } from '../payments/refund-status';

/** The lists a tenant's job walks, in order; refunds come before charges so refunded totals know every refund. */
export const PHASES = [
  'pi:account',
  'pi:platform',
  're:account',
  're:platform',
  'ch:account',
  'ch:platform',
  'fee:platform',
  'tr:platform',
  'sub:account',
  'in:account',
  'po:account',
  'local',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

/** Stripe's `created` and our `created_at` come from two clocks: lists reach this far past the window's edges. */
const EDGE_SLACK_SECONDS = 60;
/** How long a job waits for a platform page another job of its run is fetching before it fetches it itself. */
const SHARED_PAGE_WAIT_MS = 30_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Obj = Record<string, unknown>;

/** A difference found on one page; `heal` replays the missed webhook through its handler (in the page's transaction). */
export interface Finding {
  category: DriftCategory;
  route: PaymentRouteEntity | null;
  objectId: string | null;
  local: Obj;
  stripe: Obj;
  /** The later of the two sides' timestamps: what the grace window is measured from. */
  newest: Date;
  heal?: (manager: EntityManager) => Promise<boolean>;
  note?: string;
}

export interface Match {
  stripe_object_id: string;
  payment_route_id: string | null;
  kind: 'linked' | 'unrecorded_refund';
  amount: number | null;
}

export interface StepResult {
  findings: Finding[];
  matches: Match[];
  /** Where the job goes next: the same phase with a new cursor, or the next phase from its start. */
  phase: Phase;
  cursor: string | null;
  subCursor: string | null;
}

/** What one job execution knows: its row, its run, and the Stripe calls it made. */
export interface JobContext {
  job: ReconciliationJobEntity;
  run: ReconciliationRunEntity;
  calls: number;
  /** Payouts page of this execution (not stored: a resumed job lists it again from its cursor). */
  payouts?: { after: string | null; list: StripePayout[]; hasMore: boolean };
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);
const fromUnix = (s: number): Date => new Date(s * 1000);
const later = (a: Date, b: Date): Date => (a > b ? a : b);
const idOf = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object'
      ? (((v as Obj).id as string | undefined) ?? null)
      : null;
const meta = (o: { metadata?: unknown }): Record<string, string> =>
  (o.metadata as Record<string, string> | null | undefined) ?? {};

function nextPhase(phase: Phase): Phase {
  return PHASES[Math.min(PHASES.indexOf(phase) + 1, PHASES.length - 1)];
}

export function localSide(route: PaymentRouteEntity): Obj {
  return {
    type: route.type,
    status: route.status,
    amount: route.amount,
    fee: route.fee,
    currency: route.currency.trim(),
    charge_type: route.charge_type,
    stripe_payment_intent_id: route.stripe_payment_intent_id,
    stripe_object_id: route.stripe_object_id,
    stripe_status: route.stripe_status,
  };
}

/**
 * One page of one list per call: fetch from Stripe (paced, counted), compare with our rows, and say where to go
 * next. Nothing here writes; the worker stores the findings, the matches and the cursor in one transaction.
 */
@Injectable()
export class ReconciliationEngine {
  private readonly pacer: RequestPacer;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly handlers: PaymentsWebhookHandlers,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {
    this.pacer = new RequestPacer(cfg.stripeRps);
  }

  private async call<T>(ctx: JobContext, fn: () => Promise<T>): Promise<T> {
    await this.pacer.take();
    ctx.calls += 1;
    return fn();
  }

  /** Null when Stripe answers 404 (the object does not exist there). */
  private async retrieve<T>(ctx: JobContext, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await this.call(ctx, fn);
    } catch (err) {
      const stripe = err instanceof ServiceException ? (err.details?.stripe as Obj | undefined) : undefined;
      if (
        err instanceof ServiceException &&
        err.code === ErrorCode.StripeRequestFailed &&
        (stripe?.status === 404 || stripe?.code === 'resource_missing')
      )
        return null;
      throw err;
    }
  }

  private listParams(ctx: JobContext, cursor: string | null): Obj {
    return {
      created: {
        gte: seconds(ctx.run.window_from) - EDGE_SLACK_SECONDS,
        lte: seconds(ctx.run.window_to) + EDGE_SLACK_SECONDS,
      },
      limit: this.cfg.pageSize,
      ...(cursor ? { starting_after: cursor } : {}),
    };
  }

  private account(ctx: JobContext): StripeReadOptions {
    return { stripeAccount: ctx.job.stripe_account_id };
  }

  async step(ctx: JobContext): Promise<StepResult> {
    const phase = ctx.job.phase as Phase;
    const cursor = ctx.job.cursor;
    switch (phase) {
      case 'pi:account':
      case 'pi:platform': {
        const onAccount = phase === 'pi:account';
        const list = await this.page(ctx, onAccount, () =>
          this.gateway.listPaymentIntents(
            this.listParams(ctx, cursor),
            onAccount ? this.account(ctx) : undefined,
          ),
        );
        const pis = list.data.filter((pi) => this.isOurs(ctx, pi, onAccount));
        const out = await this.compareIntents(ctx, pis);
        return this.paged(phase, list, out);
      }
      case 're:account':
      case 're:platform': {
        const onAccount = phase === 're:account';
        const list = await this.page(ctx, onAccount, () =>
          this.gateway.listRefunds(this.listParams(ctx, cursor), onAccount ? this.account(ctx) : undefined),
        );
        const out = await this.compareRefunds(ctx, list.data);
        return this.paged(phase, list, out);
      }
      case 'ch:account':
      case 'ch:platform': {
        const onAccount = phase === 'ch:account';
        const list = await this.page(ctx, onAccount, () =>
          this.gateway.listCharges(this.listParams(ctx, cursor), onAccount ? this.account(ctx) : undefined),
        );
        const out = await this.compareCharges(ctx, list.data, onAccount);
        return this.paged(phase, list, out);
      }
      case 'fee:platform': {
        const list = await this.page(ctx, false, () =>
          this.gateway.listApplicationFees(this.listParams(ctx, cursor)),
        );
        const out = await this.compareFees(
          ctx,
          list.data.filter((f) => idOf(f.account) === ctx.job.stripe_account_id),
        );
        return this.paged(phase, list, out);
      }
      case 'tr:platform': {
        const list = await this.call(ctx, () =>
          this.gateway.listTransfers({
            ...this.listParams(ctx, cursor),
            destination: ctx.job.stripe_account_id,
          }),
        );
        const out = await this.compareTransfers(ctx, list.data);
        return this.paged(phase, list, out);
      }
      case 'sub:account': {
        const list = await this.call(ctx, () =>
          this.gateway.listSubscriptions(this.listParams(ctx, cursor), this.account(ctx)),
        );
        const out = await this.compareSubscriptions(ctx, list.data);
        return this.paged(phase, list, out);
      }
      case 'in:account': {
        const list = await this.call(ctx, () =>
          this.gateway.listInvoices(this.listParams(ctx, cursor), this.account(ctx)),
        );
        return this.paged(phase, list, await this.linkInvoices(ctx, list.data));
      }
      case 'po:account':
        return this.payoutStep(ctx);
      case 'local':
        return this.localStep(ctx);
      case 'done':
        return { findings: [], matches: [], phase: 'done', cursor: null, subCursor: null };
    }
  }

  /**
   * One list page. A platform list in a run over every tenant is the same page for all of its jobs: the first job
   * to need it fetches it and keeps it (reconciliation_pages) for the others, so N tenants do not read it N times.
   */
  private async page<T>(
    ctx: JobContext,
    onAccount: boolean,
    fetch: () => Promise<StripeList<T>>,
  ): Promise<StripeList<T>> {
    if (onAccount || ctx.run.tenant_id !== null) return this.call(ctx, fetch);
    const key = [ctx.run.id, ctx.job.phase, ctx.job.cursor ?? ''];
    // The first job to claim the page fetches it; the others wait for it (never holding a transaction meanwhile).
    const claimed = (await this.dataSource.query(
      `INSERT INTO reconciliation_pages (run_id, phase, cursor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING cursor`,
      key,
    )) as unknown[];
    if (claimed.length) {
      try {
        const list = await this.call(ctx, fetch);
        await this.dataSource.query(
          `UPDATE reconciliation_pages SET data = $4 WHERE run_id = $1 AND phase = $2 AND cursor = $3`,
          [...key, JSON.stringify(list)],
        );
        return list;
      } catch (err) {
        await this.dataSource.query(
          `DELETE FROM reconciliation_pages WHERE run_id = $1 AND phase = $2 AND cursor = $3`,
          key,
        );
        throw err;
      }
    }
    const deadline = Date.now() + SHARED_PAGE_WAIT_MS;
    while (Date.now() < deadline) {
      const kept = (await this.dataSource.query(
        `SELECT data FROM reconciliation_pages WHERE run_id = $1 AND phase = $2 AND cursor = $3`,
        key,
      )) as { data: StripeList<T> | null }[];
      if (kept[0]?.data) return kept[0].data;
      if (!kept[0]) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The claimer failed or is slow (a stopped replica): fetch it ourselves.
    return this.call(ctx, fetch);
  }

  private paged<T extends { id: string }>(
    phase: Phase,
    list: StripeList<T>,
    out: { findings: Finding[]; matches: Match[] },
  ): StepResult {
    const last = list.data[list.data.length - 1];
    if (list.has_more && last) return { ...out, phase, cursor: last.id, subCursor: null };
    return { ...out, phase: nextPhase(phase), cursor: null, subCursor: null };
  }

  /**
   * Platform lists hold every tenant's objects: keep this tenant's. On the connected account, objects the tenant
   * made outside the platform (no route id, tenant or application fee of ours) are its own business.
   */
  private isOurs(ctx: JobContext, o: StripePaymentIntent | StripeCharge, onAccount: boolean): boolean {
    const m = meta(o);
    if (!onAccount) {
      const destination = idOf((o.transfer_data as Obj | null)?.destination);
      return m.tenant_id === ctx.job.tenant_id || destination === ctx.job.stripe_account_id;
    }
    return Boolean(m.payment_route_id || m.tenant_id || o.application_fee_amount !== null);
  }

  /** Routes of this tenant by id, or by the Stripe id in `column`. */
  private async routesBy(
    ctx: JobContext,
    ids: (string | null | undefined)[],
    column: 'id' | 'stripe_payment_intent_id' | 'stripe_object_id',
    type?: PaymentRouteType,
  ): Promise<PaymentRouteEntity[]> {
    const wanted = [...new Set(ids.filter((v): v is string => typeof v === 'string' && v !== ''))].filter(
      (v) => column !== 'id' || UUID.test(v),
    );
    if (!wanted.length) return [];
    return this.dataSource.getRepository(PaymentRouteEntity).find({
      where: { tenant_id: ctx.job.tenant_id, [column]: In(wanted), ...(type ? { type } : {}) },
    });
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

  private healIntent(
    ctx: JobContext,
    type: string,
    pi: StripePaymentIntent,
  ): (manager: EntityManager) => Promise<boolean> {
    return async (manager) =>
      (await this.handlers.onPaymentIntent({
        manager,
        event: this.synthetic(ctx, type, pi),
        tenantId: ctx.job.tenant_id,
        inboxId: `reconciliation:${ctx.run.id}`,
      })) === 'applied';
  }

  private healRefund(
    ctx: JobContext,
    type: string,
    refund: StripeRefund,
  ): (manager: EntityManager) => Promise<boolean> {
    return async (manager) =>
      (await this.handlers.onRefund({
        manager,
        event: this.synthetic(ctx, type, refund),
        tenantId: ctx.job.tenant_id,
        inboxId: `reconciliation:${ctx.run.id}`,
      })) === 'applied';
  }

  // --- PaymentIntents ---

  async compareIntents(
    ctx: JobContext,
    pis: StripePaymentIntent[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const byId = new Map(
      (
        await this.routesBy(
          ctx,
          pis.map((p) => meta(p).payment_route_id),
          'id',
        )
      ).map((r) => [r.id, r]),
    );
    const byPi = new Map(
      (
        await this.routesBy(
          ctx,
          pis.map((p) => p.id),
          'stripe_payment_intent_id',
          PaymentRouteType.Payment,
        )
      ).map((r) => [r.stripe_payment_intent_id as string, r]),
    );
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const pi of pis) {
      const route = byPi.get(pi.id) ?? byId.get(meta(pi).payment_route_id);
      const stripe = {
        id: pi.id,
        status: pi.status,
        amount: pi.amount,
        currency: pi.currency,
        application_fee_amount: pi.application_fee_amount,
        metadata: meta(pi),
      };
      const created = fromUnix(pi.created);
      if (!route) {
        // Invoices make their own PaymentIntents: the subscription phase covers them.
        if ((pi as unknown as Obj).invoice) continue;
        findings.push({
          category: DriftCategory.MissingLocal,
          route: null,
          objectId: pi.id,
          local: {},
          stripe,
          newest: created,
        });
        continue;
      }
      if (route.type !== PaymentRouteType.Payment) continue;
      if (route.stripe_payment_intent_id && route.stripe_payment_intent_id !== pi.id) {
        findings.push({
          category: DriftCategory.Duplicate,
          route,
          objectId: pi.id,
          local: localSide(route),
          stripe,
          newest: later(route.created_at, created),
        });
        continue;
      }
      matches.push({ stripe_object_id: pi.id, payment_route_id: route.id, kind: 'linked', amount: null });
      findings.push(...this.intentDrift(ctx, route, pi, stripe));
    }
    return { findings, matches };
  }

  private intentDrift(
    ctx: JobContext,
    route: PaymentRouteEntity,
    pi: StripePaymentIntent,
    stripe: Obj,
  ): Finding[] {
    const out: Finding[] = [];
    const base = {
      route,
      objectId: pi.id,
      local: localSide(route),
      stripe,
      newest: later(route.updated_at, fromUnix(pi.created)),
    };
    if (pi.amount !== route.amount) out.push({ ...base, category: DriftCategory.AmountMismatch });
    if (pi.currency !== route.currency.trim())
      out.push({ ...base, category: DriftCategory.CurrencyMismatch });
    if (!routeStatusesForIntent(pi.status).includes(route.status)) {
      const missed = missedIntentEvent(route.status, pi);
      out.push({
        ...base,
        // The route waited while Stripe moved on: its newest side is the route's own creation.
        newest: later(route.created_at, fromUnix(pi.created)),
        category: DriftCategory.StatusMismatch,
        ...(missed ? { heal: this.healIntent(ctx, missed, pi), note: `healed: ${missed} replayed` } : {}),
      });
    }
    return out;
  }

  // --- Refunds ---

  async compareRefunds(
    ctx: JobContext,
    refunds: StripeRefund[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const routes = [
      ...(await this.routesBy(
        ctx,
        refunds.map((r) => meta(r).payment_route_id),
        'id',
        PaymentRouteType.Refund,
      )),
      ...(await this.routesBy(
        ctx,
        refunds.map((r) => r.id),
        'stripe_object_id',
        PaymentRouteType.Refund,
      )),
    ];
    const byId = new Map(routes.map((r) => [r.id, r]));
    const byObject = new Map(
      routes.filter((r) => r.stripe_object_id).map((r) => [r.stripe_object_id as string, r]),
    );
    const parents = new Map(
      (
        await this.routesBy(
          ctx,
          refunds.map((r) => idOf(r.payment_intent)),
          'stripe_payment_intent_id',
          PaymentRouteType.Payment,
        )
      ).map((r) => [r.stripe_payment_intent_id as string, r]),
    );
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const refund of refunds) {
      const route = byObject.get(refund.id) ?? byId.get(meta(refund).payment_route_id);
      const parent = parents.get(idOf(refund.payment_intent) ?? '');
      const stripe = {
        id: refund.id,
        status: refund.status,
        amount: refund.amount,
        currency: refund.currency,
        payment_intent: idOf(refund.payment_intent),
        metadata: meta(refund),
      };
      const created = fromUnix(refund.created);
      if (!route) {
        if (!parent) continue;
        const ours = Boolean(meta(refund).payment_route_id);
        if (refund.status === 'succeeded' || refund.status === 'pending') {
          matches.push({
            stripe_object_id: refund.id,
            payment_route_id: parent.id,
            kind: 'unrecorded_refund',
            amount: refund.amount,
          });
        }
        const recordable = !ours && refund.status !== 'failed' && refund.status !== 'canceled';
        findings.push({
          category: DriftCategory.MissingLocal,
          route: parent,
          objectId: refund.id,
          local: localSide(parent),
          stripe,
          newest: created,
          ...(recordable
            ? {
                heal: this.healRefund(ctx, 'refund.created', refund),
                note: 'healed: refund recorded from Stripe',
              }
            : {}),
        });
        continue;
      }
      matches.push({ stripe_object_id: refund.id, payment_route_id: route.id, kind: 'linked', amount: null });
      const base = {
        route,
        objectId: refund.id,
        local: localSide(route),
        stripe,
        newest: later(route.updated_at, created),
      };
      if (refund.amount !== route.amount) findings.push({ ...base, category: DriftCategory.AmountMismatch });
      if (refund.currency !== route.currency.trim())
        findings.push({ ...base, category: DriftCategory.CurrencyMismatch });
      if (routeStatusForRefund(refund.status) !== route.status) {
        const healable = refundHealable(route.status, refund.status);
        findings.push({
          ...base,
          newest: later(route.created_at, created),
          category: DriftCategory.StatusMismatch,
          ...(healable
            ? {
                heal: this.healRefund(ctx, 'refund.updated', refund),
                note: 'healed: refund.updated replayed',
              }
            : {}),
        });
      }
    }
    return { findings, matches };
  }

  // --- Charges: refunded totals, the application fee and the destination transfer exist ---

  async compareCharges(
    ctx: JobContext,
    charges: StripeCharge[],
    onAccount: boolean,
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const mine = charges.filter(
      (c) => c.payment_intent && c.status === 'succeeded' && this.isOurs(ctx, c, onAccount),
    );
    const routes = new Map(
      (
        await this.routesBy(
          ctx,
          mine.map((c) => idOf(c.payment_intent)),
          'stripe_payment_intent_id',
          PaymentRouteType.Payment,
        )
      ).map((r) => [r.stripe_payment_intent_id as string, r]),
    );
    const refunded = await this.localRefunded(
      ctx,
      [...routes.values()].map((r) => r.id),
    );
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const charge of mine) {
      const route = routes.get(idOf(charge.payment_intent) as string);
      if (!route) continue;
      const link = (id: string | null): void => {
        if (id)
          matches.push({ stripe_object_id: id, payment_route_id: route.id, kind: 'linked', amount: null });
      };
      link(charge.id);
      link(idOf(charge.transfer));
      link(idOf(charge.application_fee));
      const stripe = {
        id: charge.id,
        amount: charge.amount,
        amount_refunded: charge.amount_refunded,
        application_fee: idOf(charge.application_fee),
        transfer: idOf(charge.transfer),
        currency: charge.currency,
      };
      const base = {
        route,
        objectId: charge.id,
        stripe,
        newest: later(route.updated_at, fromUnix(charge.created)),
      };
      const ours = refunded.get(route.id) ?? 0;
      if (charge.amount_refunded !== ours) {
        findings.push({
          ...base,
          category: DriftCategory.RefundMismatch,
          local: { ...localSide(route), amount_refunded: ours },
        });
      }
      const feeCharged =
        route.charge_type === ChargeType.Direct || route.charge_type === ChargeType.Destination;
      if (feeCharged && route.fee > 0 && !charge.application_fee) {
        findings.push({ ...base, category: DriftCategory.FeeMismatch, local: localSide(route) });
      }
      if (route.charge_type === ChargeType.Destination && !charge.transfer) {
        findings.push({ ...base, category: DriftCategory.TransferMismatch, local: localSide(route) });
      }
    }
    return { findings, matches };
  }

  /** Our refunded total per payment: refund routes Stripe has (not failed), plus refunds Stripe showed we lack a route for. */
  private async localRefunded(ctx: JobContext, routeIds: string[]): Promise<Map<string, number>> {
    if (!routeIds.length) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT p.id, COALESCE((SELECT SUM(r.amount) FROM payment_routes r
                 WHERE r.parent_id = p.id AND r.type = 'refund' AND r.stripe_object_id IS NOT NULL
                   AND r.status NOT IN ('failed', 'canceled')), 0)
            + COALESCE((SELECT SUM(m.amount) FROM reconciliation_matches m
                 WHERE m.job_id = $1 AND m.kind = 'unrecorded_refund' AND m.payment_route_id = p.id
                   AND NOT EXISTS (SELECT 1 FROM payment_routes x WHERE x.stripe_object_id = m.stripe_object_id)), 0)
            AS refunded
         FROM payment_routes p WHERE p.id = ANY($2::uuid[])`,
      [ctx.job.id, routeIds],
    )) as { id: string; refunded: string }[];
    return new Map(rows.map((r) => [r.id, Number(r.refunded)]));
  }

  /** The route a Stripe id was linked to by this job, or that holds it as its own object. */
  private async linkedRoutes(ctx: JobContext, objectIds: string[]): Promise<Map<string, PaymentRouteEntity>> {
    const ids = [...new Set(objectIds.filter(Boolean))];
    if (!ids.length) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT m.stripe_object_id AS object_id, m.payment_route_id AS route_id FROM reconciliation_matches m
        WHERE m.job_id = $1 AND m.kind = 'linked' AND m.stripe_object_id = ANY($2)
       UNION ALL
       SELECT r.stripe_object_id, r.id FROM payment_routes r WHERE r.tenant_id = $3 AND r.stripe_object_id = ANY($2)`,
      [ctx.job.id, ids, ctx.job.tenant_id],
    )) as { object_id: string; route_id: string }[];
    const routes = new Map(
      (
        await this.routesBy(
          ctx,
          rows.map((r) => r.route_id),
          'id',
        )
      ).map((r) => [r.id, r]),
    );
    const out = new Map<string, PaymentRouteEntity>();
    for (const row of rows) {
      const route = routes.get(row.route_id);
      if (route) out.set(row.object_id, route);
    }
    return out;
  }

  // --- Application fees ---

  async compareFees(
    ctx: JobContext,
    fees: StripeApplicationFee[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const routes = await this.linkedRoutes(
      ctx,
      fees.map((f) => idOf(f.charge) ?? ''),
    );
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const fee of fees) {
      const route = routes.get(idOf(fee.charge) ?? '');
      if (!route) continue;
      // Fee refunds (`fr_`) reach the account's balance too: link them for the payout phase.
      const feeRefunds = (fee.refunds?.data ?? []).map((r) => r.id);
      for (const id of [fee.id, ...feeRefunds])
        if (id)
          matches.push({ stripe_object_id: id, payment_route_id: route.id, kind: 'linked', amount: null });
      if (fee.amount !== route.fee) {
        findings.push({
          category: DriftCategory.FeeMismatch,
          route,
          objectId: fee.id,
          local: localSide(route),
          stripe: {
            id: fee.id,
            amount: fee.amount,
            amount_refunded: fee.amount_refunded,
            charge: idOf(fee.charge),
          },
          newest: later(route.updated_at, fromUnix(fee.created)),
        });
      }
    }
    return { findings, matches };
  }

  // --- Transfers: destination charges' automatic transfers and split payments' own ---

  async compareTransfers(
    ctx: JobContext,
    transfers: StripeTransfer[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const own = new Map(
      (
        await this.routesBy(
          ctx,
          transfers.map((t) => t.id),
          'stripe_object_id',
          PaymentRouteType.Transfer,
        )
      ).map((r) => [r.stripe_object_id as string, r]),
    );
    const bySource = await this.linkedRoutes(
      ctx,
      transfers.map((t) => idOf(t.source_transaction) ?? ''),
    );
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const t of transfers) {
      const stripe = {
        id: t.id,
        amount: t.amount,
        amount_reversed: t.amount_reversed,
        destination: idOf(t.destination),
        source_transaction: idOf(t.source_transaction),
        transfer_group: t.transfer_group,
      };
      const created = fromUnix(t.created);
      const split = own.get(t.id);
      const route = split ?? bySource.get(idOf(t.source_transaction) ?? '');
      if (!route) {
        if (meta(t).payment_route_id || meta(t).tenant_id === ctx.job.tenant_id) {
          findings.push({
            category: DriftCategory.MissingLocal,
            route: null,
            objectId: t.id,
            local: {},
            stripe,
            newest: created,
          });
        }
        continue;
      }
      matches.push({ stripe_object_id: t.id, payment_route_id: route.id, kind: 'linked', amount: null });
      // The account-side objects it made: the `py_` payment, and each reversal's `pyr_` refund of that payment.
      const reversals = (t.reversals?.data ?? []).map((r) => idOf(r.destination_payment_refund));
      for (const id of [idOf(t.destination_payment), ...reversals])
        if (id)
          matches.push({ stripe_object_id: id, payment_route_id: route.id, kind: 'linked', amount: null });
      const right = split
        ? t.amount === route.amount && idOf(t.destination) === route.stripe_account_id
        : route.charge_type !== ChargeType.Destination ||
          (destinationTransferMatches(t.amount, route.amount, route.fee) &&
            idOf(t.destination) === route.stripe_account_id);
      if (!right) {
        findings.push({
          category: DriftCategory.TransferMismatch,
          route,
          objectId: t.id,
          local: localSide(route),
          stripe,
          newest: later(route.updated_at, created),
        });
      }
    }
    return { findings, matches };
  }

  // --- Subscriptions ---

  async compareSubscriptions(
    ctx: JobContext,
    subs: StripeSubscription[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const routes = [
      ...(await this.routesBy(
        ctx,
        subs.map((s) => meta(s).payment_route_id),
        'id',
        PaymentRouteType.Subscription,
      )),
      ...(await this.routesBy(
        ctx,
        subs.map((s) => s.id),
        'stripe_object_id',
        PaymentRouteType.Subscription,
      )),
    ];
    const byObject = new Map(routes.map((r) => [r.stripe_object_id ?? r.id, r]));
    const byId = new Map(routes.map((r) => [r.id, r]));
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const sub of subs) {
      const m = meta(sub);
      const ours = m.payment_route_id || m.tenant_id || sub.application_fee_percent !== null;
      if (!ours) continue;
      const route = byObject.get(sub.id) ?? byId.get(m.payment_route_id);
      const amount = sub.items.data.reduce((s, i) => s + (i.price.unit_amount ?? 0) * (i.quantity ?? 1), 0);
      const stripe = { id: sub.id, status: sub.status, amount, currency: sub.currency };
      const created = fromUnix(sub.created);
      if (!route) {
        findings.push({
          category: DriftCategory.MissingLocal,
          route: null,
          objectId: sub.id,
          local: {},
          stripe,
          newest: created,
        });
        continue;
      }
      matches.push({ stripe_object_id: sub.id, payment_route_id: route.id, kind: 'linked', amount: null });
      const base = {
        route,
        objectId: sub.id,
        local: localSide(route),
        stripe,
        newest: later(route.updated_at, created),
      };
      if (amount !== route.amount) findings.push({ ...base, category: DriftCategory.AmountMismatch });
      if (sub.currency !== route.currency.trim())
        findings.push({ ...base, category: DriftCategory.CurrencyMismatch });
      if (routeStatusForSubscription(sub.status) !== route.status)
        findings.push({ ...base, category: DriftCategory.StatusMismatch });
    }
    return { findings, matches };
  }

  /** A subscription's invoices carry its charges: link them (and their PaymentIntents) to the subscription's route. */
  async linkInvoices(
    ctx: JobContext,
    invoices: StripeInvoice[],
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const subscriptionOf = (i: StripeInvoice): string | null =>
      idOf((i as unknown as Obj).subscription) ?? idOf(i.parent?.subscription_details?.subscription);
    const routes = new Map(
      (
        await this.routesBy(
          ctx,
          invoices.map(subscriptionOf),
          'stripe_object_id',
          PaymentRouteType.Subscription,
        )
      ).map((r) => [r.stripe_object_id as string, r]),
    );
    const matches: Match[] = [];
    for (const invoice of invoices) {
      const route = routes.get(subscriptionOf(invoice) ?? '');
      if (!route) continue;
      const o = invoice as unknown as Obj;
      for (const id of [invoice.id, idOf(o.charge), idOf(o.payment_intent)])
        if (id)
          matches.push({ stripe_object_id: id, payment_route_id: route.id, kind: 'linked', amount: null });
    }
    return { findings: [], matches };
  }

  // --- Payouts: every balance transaction a payout carried must lead back to one of our routes ---

  private async payoutStep(ctx: JobContext): Promise<StepResult> {
    const after = ctx.job.cursor;
    if (!ctx.payouts || ctx.payouts.after !== after || !ctx.payouts.list.length) {
      const list = await this.call(ctx, () =>
        this.gateway.listPayouts(
          {
            ...this.listParams(ctx, after),
            status: 'paid',
          } as never,
          this.account(ctx),
        ),
      );
      ctx.payouts = { after, list: list.data.filter((p) => p.automatic), hasMore: list.has_more };
      if (!ctx.payouts.list.length) {
        const last = list.data[list.data.length - 1];
        if (list.has_more && last)
          return { findings: [], matches: [], phase: 'po:account', cursor: last.id, subCursor: null };
        return { findings: [], matches: [], phase: 'local', cursor: null, subCursor: null };
      }
    }
    const payout = ctx.payouts.list[0];
    const bts = await this.call(ctx, () =>
      this.gateway.listBalanceTransactions(
        {
          payout: payout.id,
          limit: this.cfg.pageSize,
          ...(ctx.job.sub_cursor ? { starting_after: ctx.job.sub_cursor } : {}),
        },
        this.account(ctx),
      ),
    );
    const findings = await this.unlinked(ctx, payout, bts.data);
    const last = bts.data[bts.data.length - 1];
    if (bts.has_more && last)
      return { findings, matches: [], phase: 'po:account', cursor: after, subCursor: last.id };
    // This payout is done: the next step starts the next one (same cached page) or lists the next page.
    ctx.payouts = { after: payout.id, list: ctx.payouts.list.slice(1), hasMore: ctx.payouts.hasMore };
    if (!ctx.payouts.list.length && !ctx.payouts.hasMore)
      return { findings, matches: [], phase: 'local', cursor: null, subCursor: null };
    return { findings, matches: [], phase: 'po:account', cursor: payout.id, subCursor: null };
  }

  private async unlinked(
    ctx: JobContext,
    payout: StripePayout,
    bts: StripeBalanceTransaction[],
  ): Promise<Finding[]> {
    const carried = bts.filter((bt) => bt.reporting_category !== 'payout' && bt.type !== 'payout');
    const sources = carried.map((bt) => idOf(bt.source) ?? '');
    const known = await this.linkedRoutes(ctx, sources);
    const findings: Finding[] = [];
    for (const bt of carried) {
      const source = idOf(bt.source);
      if (source && known.has(source)) continue;
      if (source && (await this.linkedThroughTransfer(ctx, source))) continue;
      findings.push({
        category: DriftCategory.PayoutUnlinked,
        route: null,
        objectId: bt.id,
        local: {},
        stripe: {
          id: bt.id,
          payout: payout.id,
          amount: bt.amount,
          currency: bt.currency,
          type: bt.type,
          reporting_category: bt.reporting_category,
          source,
        },
        newest: fromUnix(bt.created),
      });
    }
    return findings;
  }

  /**
   * A destination payment (`py_`) from before the window: payment → its transfer → the platform charge → our
   * route. https://docs.stripe.com/connect/payouts-connected-accounts#reconcile
   */
  private async linkedThroughTransfer(ctx: JobContext, source: string): Promise<boolean> {
    let paymentId = source;
    if (source.startsWith('pyr_')) {
      // A reversal's refund of the payment: back to the payment it refunded.
      const refund = await this.retrieve(ctx, () => this.gateway.retrieveRefund(source, this.account(ctx)));
      paymentId = idOf(refund?.charge) ?? '';
      if ((await this.linkedRoutes(ctx, [paymentId])).size) return true;
    }
    if (!paymentId.startsWith('py_')) return false;
    const payment = await this.retrieve(ctx, () => this.gateway.retrieveCharge(paymentId, this.account(ctx)));
    const transferId = idOf(payment?.source_transfer);
    if (!transferId) return false;
    if ((await this.linkedRoutes(ctx, [transferId])).size) return true;
    const transfer = await this.retrieve(ctx, () => this.gateway.retrieveTransfer(transferId));
    const charge = idOf(transfer?.source_transaction);
    return charge ? (await this.linkedRoutes(ctx, [charge])).size > 0 : false;
  }

  // --- Our side: routes of the window no Stripe list showed ---

  private async localStep(ctx: JobContext): Promise<StepResult> {
    const routes = (await this.dataSource.query(
      `SELECT r.id FROM payment_routes r
        WHERE r.tenant_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND ($4::uuid IS NULL OR r.id > $4::uuid)
          AND NOT EXISTS (SELECT 1 FROM reconciliation_matches m
                           WHERE m.job_id = $5 AND m.kind = 'linked' AND m.payment_route_id = r.id)
        ORDER BY r.id LIMIT $6`,
      [
        ctx.job.tenant_id,
        ctx.run.window_from,
        ctx.run.window_to,
        ctx.job.cursor,
        ctx.job.id,
        this.cfg.pageSize,
      ],
    )) as { id: string }[];
    const rows = await this.routesBy(
      ctx,
      routes.map((r) => r.id),
      'id',
    );
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const findings: Finding[] = [];
    const matches: Match[] = [];
    for (const route of rows) {
      const out = await this.checkUnseen(ctx, route);
      findings.push(...out.findings);
      matches.push(...out.matches);
    }
    const last = rows[rows.length - 1];
    if (routes.length === this.cfg.pageSize && last)
      return { findings, matches, phase: 'local', cursor: last.id, subCursor: null };
    return { findings, matches, phase: 'done', cursor: null, subCursor: null };
  }

  private missing(route: PaymentRouteEntity, objectId: string | null): Finding {
    return {
      category: DriftCategory.MissingStripe,
      route,
      objectId,
      local: localSide(route),
      stripe: {},
      newest: route.updated_at,
    };
  }

  private async checkUnseen(
    ctx: JobContext,
    route: PaymentRouteEntity,
  ): Promise<{ findings: Finding[]; matches: Match[] }> {
    const none = { findings: [], matches: [] };
    const onAccount = route.charge_type === ChargeType.Direct ? this.account(ctx) : undefined;
    const open = [
      PaymentRouteStatus.Pending,
      PaymentRouteStatus.RequiresAction,
      PaymentRouteStatus.Processing,
    ];
    const settled = !open.includes(route.status);
    switch (route.type) {
      case PaymentRouteType.Payment: {
        if (!route.stripe_payment_intent_id) {
          // Declined or refused before Stripe made anything: nothing to find there.
          return settled ? none : { findings: [this.missing(route, null)], matches: [] };
        }
        const pi = await this.retrieve(ctx, () =>
          this.gateway.retrievePaymentIntent(route.stripe_payment_intent_id as string, onAccount),
        );
        if (!pi) return { findings: [this.missing(route, route.stripe_payment_intent_id)], matches: [] };
        return this.compareIntents(ctx, [pi]);
      }
      case PaymentRouteType.Refund: {
        if (!route.stripe_object_id)
          return settled ? none : { findings: [this.missing(route, null)], matches: [] };
        const refund = await this.retrieve(ctx, () =>
          this.gateway.retrieveRefund(route.stripe_object_id as string, onAccount),
        );
        if (!refund) return { findings: [this.missing(route, route.stripe_object_id)], matches: [] };
        return this.compareRefunds(ctx, [refund]);
      }
      case PaymentRouteType.Transfer: {
        if (!route.stripe_object_id)
          return settled ? none : { findings: [this.missing(route, null)], matches: [] };
        const transfer = await this.retrieve(ctx, () =>
          this.gateway.retrieveTransfer(route.stripe_object_id as string),
        );
        if (!transfer) return { findings: [this.missing(route, route.stripe_object_id)], matches: [] };
        return this.compareTransfers(ctx, [transfer]);
      }
      case PaymentRouteType.Subscription:
        // Stripe's subscription list leaves canceled ones out unless asked: unseen and canceled is no difference.
        return route.status === PaymentRouteStatus.Canceled
          ? none
          : { findings: [this.missing(route, route.stripe_object_id)], matches: [] };
    }
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { PaymentRouteEntity, PaymentRouteType } from '@app/database';
import type {
  StripeApplicationFee,
  StripeCharge,
  StripeInvoice,
  StripePaymentIntent,
  StripeRefund,
  StripeSubscription,
  StripeTransfer,
} from '@app/stripe-gateway';
import { ReconciliationMatchesRepository } from '../reconciliation-matches.repository';
import { ChargeRoutes } from './charge.drift';
import { JobOwner, idOf, meta } from './drift.types';
import { IntentRoutes } from './intent.drift';
import { RefundRoutes } from './refund.drift';
import { SubscriptionRoutes } from './subscription.drift';
import { TransferRoutes } from './transfer.drift';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job a page is compared for: its tenant's routes, and what it linked so far. */
export type JobScope = Pick<JobOwner, 'jobId' | 'tenantId'>;

type Column = 'id' | 'stripe_payment_intent_id' | 'stripe_object_id';

const keyed = (routes: PaymentRouteEntity[], key: (r: PaymentRouteEntity) => string | null) =>
  new Map(routes.flatMap((r) => (key(r) ? [[key(r) as string, r] as const] : [])));

/** Our rows for a page of Stripe objects: what each pure comparer needs, read in a few statements per page. */
@Injectable()
export class DriftInputs {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly matches: ReconciliationMatchesRepository,
  ) {}

  /** Routes of this tenant by id, or by the Stripe id in `column`. */
  async routesBy(
    job: JobScope,
    ids: (string | null | undefined)[],
    column: Column,
    type?: PaymentRouteType,
  ): Promise<PaymentRouteEntity[]> {
    const wanted = [...new Set(ids.filter((v): v is string => typeof v === 'string' && v !== ''))].filter(
      (v) => column !== 'id' || UUID.test(v),
    );
    if (!wanted.length) return [];
    return this.dataSource.getRepository(PaymentRouteEntity).find({
      where: { tenant_id: job.tenantId, [column]: In(wanted), ...(type ? { type } : {}) },
    });
  }

  /** The route a Stripe id was linked to by this job, or that holds it as its own object. */
  async linkedRoutes(job: JobScope, objectIds: (string | null)[]): Promise<Map<string, PaymentRouteEntity>> {
    const ids = [...new Set(objectIds.filter((v): v is string => Boolean(v)))];
    if (!ids.length) return new Map();
    const links = await this.matches.linkedRouteIds(job.jobId, job.tenantId, ids);
    const routes = keyed(
      await this.routesBy(
        job,
        links.map((l) => l.route_id),
        'id',
      ),
      (r) => r.id,
    );
    const out = new Map<string, PaymentRouteEntity>();
    for (const link of links) {
      const route = routes.get(link.route_id);
      if (route) out.set(link.object_id, route);
    }
    return out;
  }

  /** Routes of `type` for Stripe objects: by the route id in their metadata, and by their own id. */
  private async ownRoutes(
    job: JobScope,
    objects: { id: string; metadata?: unknown }[],
    type: PaymentRouteType,
  ): Promise<PaymentRouteEntity[]> {
    const byMeta = await this.routesBy(
      job,
      objects.map((o) => meta(o).payment_route_id),
      'id',
      type,
    );
    const byObject = await this.routesBy(
      job,
      objects.map((o) => o.id),
      'stripe_object_id',
      type,
    );
    return [...byMeta, ...byObject];
  }

  async forIntents(job: JobScope, pis: StripePaymentIntent[]): Promise<IntentRoutes> {
    const ids = pis.map((p) => meta(p).payment_route_id);
    const payment = PaymentRouteType.Payment;
    return {
      byId: keyed(await this.routesBy(job, ids, 'id'), (r) => r.id),
      byIntent: keyed(
        await this.routesBy(
          job,
          pis.map((p) => p.id),
          'stripe_payment_intent_id',
          payment,
        ),
        (r) => r.stripe_payment_intent_id,
      ),
    };
  }

  async forRefunds(job: JobScope, refunds: StripeRefund[]): Promise<RefundRoutes> {
    const routes = await this.ownRoutes(job, refunds, PaymentRouteType.Refund);
    const parents = await this.routesBy(
      job,
      refunds.map((r) => idOf(r.payment_intent)),
      'stripe_payment_intent_id',
      PaymentRouteType.Payment,
    );
    return {
      byId: keyed(routes, (r) => r.id),
      byObject: keyed(routes, (r) => r.stripe_object_id),
      parents: keyed(parents, (r) => r.stripe_payment_intent_id),
    };
  }

  async forCharges(job: JobScope, charges: StripeCharge[]): Promise<ChargeRoutes> {
    const byIntent = keyed(
      await this.routesBy(
        job,
        charges.map((c) => idOf(c.payment_intent)),
        'stripe_payment_intent_id',
        PaymentRouteType.Payment,
      ),
      (r) => r.stripe_payment_intent_id,
    );
    const refunded = await this.matches.refundedTotals(
      job.jobId,
      job.tenantId,
      [...byIntent.values()].map((r) => r.id),
    );
    return { byIntent, refunded };
  }

  forFees(job: JobScope, fees: StripeApplicationFee[]): Promise<Map<string, PaymentRouteEntity>> {
    return this.linkedRoutes(
      job,
      fees.map((f) => idOf(f.charge)),
    );
  }

  async forTransfers(job: JobScope, transfers: StripeTransfer[]): Promise<TransferRoutes> {
    const own = await this.routesBy(
      job,
      transfers.map((t) => t.id),
      'stripe_object_id',
      PaymentRouteType.Transfer,
    );
    return {
      own: keyed(own, (r) => r.stripe_object_id),
      bySource: await this.linkedRoutes(
        job,
        transfers.map((t) => idOf(t.source_transaction)),
      ),
    };
  }

  async forSubscriptions(job: JobScope, subs: StripeSubscription[]): Promise<SubscriptionRoutes> {
    const routes = await this.ownRoutes(job, subs, PaymentRouteType.Subscription);
    return { byObject: keyed(routes, (r) => r.stripe_object_id ?? r.id), byId: keyed(routes, (r) => r.id) };
  }

  async forInvoices(
    job: JobScope,
    invoices: StripeInvoice[],
    subscriptionOf: (i: StripeInvoice) => string | null,
  ): Promise<Map<string, PaymentRouteEntity>> {
    const routes = await this.routesBy(
      job,
      invoices.map(subscriptionOf),
      'stripe_object_id',
      PaymentRouteType.Subscription,
    );
    return keyed(routes, (r) => r.stripe_object_id);
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ChargeType, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import type { StripePaymentIntent, StripeRefund } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { isStaleEvent } from '../webhooks/event-ordering';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from '../webhooks/webhook-handler.registry';
import { paymentFees, paymentsTotal, paymentVolume } from './payments-metrics';
import { RefundsService } from './refunds.service';
import { resolveUnknownAttempt } from './route-plan';
import { SPLIT_QUEUE, SplitJob } from './split-transfers.service';
import { eventData } from './route-records.service';

export const PAYMENT_INTENT_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
];
export const REFUND_EVENTS = ['charge.refunded', 'refund.created', 'refund.updated'];
export const DISPUTE_AND_FEE_EVENTS = [
  'charge.dispute.created',
  'application_fee.created',
  'application_fee.refunded',
  'application_fee.refund.updated',
];

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string): string | null => (typeof o[k] === 'string' ? (o[k] as string) : null);

/** One application fee refund as analytics needs it: https://docs.stripe.com/api/fee_refunds/object */
export interface FeeRefundFact {
  id: string;
  amount: number;
  created: number;
}

/**
 * The fee refunds seen so far, by id: events may arrive in any order and each lists only the newest ten
 * (https://docs.stripe.com/api/application_fees/object#application_fee_object-refunds), so none is ever dropped.
 */
export function mergeFeeRefunds(previous: unknown, listed: unknown): FeeRefundFact[] {
  const byId = new Map<string, FeeRefundFact>();
  for (const list of [previous, listed]) {
    if (!Array.isArray(list)) continue;
    for (const r of list as Obj[]) {
      if (typeof r?.id !== 'string' || typeof r.amount !== 'number' || typeof r.created !== 'number')
        continue;
      byId.set(r.id, { id: r.id, amount: r.amount, created: r.created });
    }
  }
  return [...byId.values()].sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
}

/**
 * Stripe → PaymentRoute. Each handler runs in the webhook processor's transaction, is stale-checked
 * on the route's last applied PaymentIntent event, and never moves a completed payment back.
 */
@Injectable()
export class PaymentsWebhookHandlers implements OnModuleInit {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly events: EventsService,
    private readonly refunds: RefundsService,
    private readonly queue: JobQueue,
  ) {}

  onModuleInit(): void {
    this.registry.register(PAYMENT_INTENT_EVENTS, (ctx) => this.onPaymentIntent(ctx));
    this.registry.register(REFUND_EVENTS, (ctx) => this.onRefund(ctx));
    this.registry.register(DISPUTE_AND_FEE_EVENTS, (ctx) => this.onDisputeOrFee(ctx));
  }

  private async findPayment(
    manager: EntityManager,
    tenantId: string,
    where: { id?: string | null; pi?: string | null; charge?: string | null },
  ): Promise<PaymentRouteEntity | null> {
    const repo = manager.getRepository(PaymentRouteEntity);
    const lock = { mode: 'pessimistic_write' as const };
    let row: PaymentRouteEntity | null = null;
    if (where.id && /^[0-9a-f-]{36}$/i.test(where.id))
      row = await repo.findOne({ where: { id: where.id, tenant_id: tenantId }, lock });
    if (!row && where.pi)
      row = await repo.findOne({
        where: { stripe_payment_intent_id: where.pi, tenant_id: tenantId, type: PaymentRouteType.Payment },
        lock,
      });
    if (!row && where.charge)
      row = await repo.findOne({
        where: { stripe_object_id: where.charge, tenant_id: tenantId, type: PaymentRouteType.Payment },
        lock,
      });
    // The processor resolved the tenant from the event: a route of another tenant is never touched.
    return row && row.tenant_id === tenantId && row.type === PaymentRouteType.Payment ? row : null;
  }

  async onPaymentIntent({ manager, event, tenantId }: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const pi = event.data.object as StripePaymentIntent;
    const row = await this.findPayment(manager, tenantId, { id: pi.metadata?.payment_route_id, pi: pi.id });
    if (!row) return 'skipped';
    if (
      isStaleEvent(
        { created: row.last_event_created, id: row.last_event_id },
        { created: event.created, id: event.id },
      )
    )
      return 'stale';
    row.last_event_created = event.created;
    row.last_event_id = event.id;
    row.stripe_payment_intent_id ??= pi.id;
    row.attempts = resolveUnknownAttempt(row.attempts ?? [], pi.id);
    if (row.status === PaymentRouteStatus.Completed) {
      await manager.getRepository(PaymentRouteEntity).save(row);
      return 'skipped';
    }
    row.stripe_status = pi.status;
    let emit: 'connect.payment.completed' | 'connect.payment.failed' | null = null;
    if (event.type === 'payment_intent.succeeded') {
      row.status = PaymentRouteStatus.Completed;
      row.failure_code = null;
      row.failure_message = null;
      const charge = typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);
      if (charge) row.stripe_object_id = charge;
      emit = 'connect.payment.completed';
      // Split payments: the tenants' transfers follow the charge, outside this transaction (they call Stripe).
      if (row.charge_type === ChargeType.Separate)
        await this.queue.send<SplitJob>(SPLIT_QUEUE, { kind: 'transfers', paymentId: row.id }, { manager });
    } else if (row.status !== PaymentRouteStatus.Failed && row.status !== PaymentRouteStatus.Canceled) {
      const error = pi.last_payment_error;
      row.status =
        event.type === 'payment_intent.canceled' ? PaymentRouteStatus.Canceled : PaymentRouteStatus.Failed;
      row.failure_code = (error?.decline_code ?? error?.code ?? pi.cancellation_reason ?? event.type).slice(
        0,
        128,
      );
      row.failure_message = error?.message ?? null;
      // https://docs.stripe.com/declines: an issuer decline, as opposed to any other failure (analytics counts both).
      if (
        event.type !== 'payment_intent.canceled' &&
        (error?.code === 'card_declined' || !!error?.decline_code)
      )
        row.stripe_details = { ...(row.stripe_details ?? {}), declined: true };
      emit = 'connect.payment.failed';
    }
    await manager.getRepository(PaymentRouteEntity).save(row);
    if (emit) {
      await this.events.emit(manager, {
        type: emit,
        tenant_id: row.tenant_id,
        data: eventData(row),
      });
      const labels = { currency: row.currency.trim(), charge_type: row.charge_type ?? 'none' };
      paymentsTotal.inc({
        ...labels,
        outcome: emit === 'connect.payment.completed' ? 'completed' : 'failed',
      });
      if (emit === 'connect.payment.completed') {
        paymentVolume.inc({ currency: labels.currency }, row.amount);
        paymentFees.inc({ currency: labels.currency }, row.fee);
      }
    }
    return 'applied';
  }

  async onRefund({ manager, event, tenantId }: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const object = event.data.object as unknown as Obj;
    const refunds: StripeRefund[] =
      event.type === 'charge.refunded'
        ? (((object.refunds as Obj | undefined)?.data as StripeRefund[] | undefined) ?? [])
        : [object as unknown as StripeRefund];
    let outcome: WebhookHandlerOutcome = 'skipped';
    for (const refund of refunds) {
      const repo = manager.getRepository(PaymentRouteEntity);
      const byMeta = refund.metadata?.payment_route_id;
      let row =
        byMeta && /^[0-9a-f-]{36}$/i.test(byMeta)
          ? await repo.findOneBy({ id: byMeta, type: PaymentRouteType.Refund })
          : null;
      row ??= await repo.findOneBy({ stripe_object_id: refund.id, type: PaymentRouteType.Refund });
      // A refund made outside the service (the Dashboard, the API directly) on one of our payments: record it.
      if (!row && !byMeta) row = await this.recordUnknownRefund(manager, tenantId, refund);
      if (!row || row.tenant_id !== tenantId) continue;
      const before = row.status;
      const after = await this.refunds.applyRefund(row.id, row.tenant_id, refund, manager);
      if (after && after.status !== before) outcome = 'applied';
    }
    return outcome;
  }

  private async recordUnknownRefund(
    manager: EntityManager,
    tenantId: string,
    refund: StripeRefund,
  ): Promise<PaymentRouteEntity | null> {
    const pi = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
    const charge = typeof refund.charge === 'string' ? refund.charge : refund.charge?.id;
    if (refund.status === 'failed' || refund.status === 'canceled') return null;
    const parent = await this.findPayment(manager, tenantId, { pi, charge });
    return parent ? this.refunds.recordExternalRefund(manager, parent, refund) : null;
  }

  async onDisputeOrFee({ manager, event, tenantId }: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const object = event.data.object as unknown as Obj;
    const charge =
      typeof object.charge === 'string'
        ? object.charge
        : (((object.charge as Obj | null)?.id as string | undefined) ?? null);
    const pi = str(object, 'payment_intent');
    const row = await this.findPayment(manager, tenantId, { pi, charge });
    if (!row) return 'skipped';
    const isDispute = event.type.startsWith('charge.dispute.');
    const key = isDispute ? 'dispute' : 'application_fee';
    const previous = row.stripe_details?.[key] as (Obj & { created?: number }) | undefined;
    if (previous?.created !== undefined && previous.created > event.created) return 'stale';
    const fact = isDispute
      ? {
          id: object.id,
          status: object.status,
          reason: object.reason,
          amount: object.amount,
          // The dispute's own creation time: analytics counts a dispute in the bucket it was opened in.
          opened_at: object.created,
          event: event.type,
          created: event.created,
        }
      : {
          id: object.id,
          amount: object.amount,
          amount_refunded: Math.max(
            Number(previous?.amount_refunded ?? 0),
            Number(object.amount_refunded ?? 0),
          ),
          refunds: mergeFeeRefunds(previous?.refunds, (object.refunds as Obj | undefined)?.data),
          event: event.type,
          created: event.created,
        };
    row.stripe_details = { ...(row.stripe_details ?? {}), [key]: fact };
    // connect.dispute.* come from the disputes module, with the dispute's own record.
    await manager.getRepository(PaymentRouteEntity).save(row);
    return 'applied';
  }
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource, EntityManager } from 'typeorm';
import { Caller, assertTenantAccess } from '@app/auth';
import { ServiceException, ErrorCode, fieldError } from '@app/common';
import { paymentsConfig } from '@app/config';
import { ChargeType, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { StripeGateway, StripeRefund } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { CreateRefundDto, PaymentRouteDto } from './dto/payment.dto';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { routeStatusForRefund } from './refund-status';
import { RouteOutcome, RouteRecords, eventData } from './route-records.service';
import { SplitTransfersService } from './split-transfers.service';
import { RECONCILE_QUEUE, RefundReconcileJob, refundParams } from './stripe-params';

type RefundAttempt =
  | { kind: 'created'; refund: StripeRefund }
  | { kind: 'unknown'; error: ServiceException }
  | { kind: 'refused'; error: ServiceException };

/** A pending refund route of `parent` (our refund, or one Stripe made that we record). */
function refundRouteOf(
  parent: PaymentRouteEntity,
  r: Pick<PaymentRouteEntity, 'id' | 'amount' | 'stripe_idempotency_key' | 'metadata'> & {
    stripe_object_id?: string;
  },
): Partial<PaymentRouteEntity> {
  return {
    tenant_id: parent.tenant_id,
    stripe_account_id: parent.stripe_account_id,
    type: PaymentRouteType.Refund,
    status: PaymentRouteStatus.Pending,
    charge_type: parent.charge_type,
    fee: 0,
    currency: parent.currency,
    parent_id: parent.id,
    stripe_payment_intent_id: parent.stripe_payment_intent_id,
    stripe_details: {},
    ...r,
  };
}

/** Refunds of routed payments (https://docs.stripe.com/api/refunds/create), each a `refund` route of its own. */
@Injectable()
export class RefundsService {
  private readonly logger = new Logger('RefundsService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
    private readonly records: RouteRecords,
    private readonly routes: PaymentRoutesRepository,
    private readonly splits: SplitTransfersService,
    @Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>,
  ) {}

  /**
   * The parent row is locked while the refundable rest is computed and the refund route recorded, so concurrent
   * refunds cannot exceed the amount.
   */
  async refund(caller: Caller, paymentId: string, dto: CreateRefundDto): Promise<RouteOutcome> {
    const route = await this.dataSource.transaction(async (manager: EntityManager) => {
      // The lock names the tenant (on Citus it goes to the route's one shard), read first from the id alone.
      const tenantId = await this.routes.tenantOf(manager, { id: paymentId });
      const parent = tenantId
        ? await manager
            .getRepository(PaymentRouteEntity)
            .findOne({ where: { id: paymentId, tenant_id: tenantId }, lock: { mode: 'pessimistic_write' } })
        : null;
      if (!parent) throw new ServiceException(ErrorCode.NotFound, `No payment ${paymentId}`);
      assertTenantAccess(caller, parent.tenant_id);
      if (parent.type !== PaymentRouteType.Payment || !parent.stripe_payment_intent_id) {
        throw new ServiceException(ErrorCode.Conflict, 'Only a routed payment can be refunded', {
          payment_route_id: parent.id,
        });
      }
      if (parent.status !== PaymentRouteStatus.Completed && parent.stripe_status !== 'succeeded') {
        throw new ServiceException(ErrorCode.Conflict, `The payment is ${parent.status}, not completed`, {
          payment_route_id: parent.id,
        });
      }
      const refundable = parent.amount - (await this.routes.refundedOf(manager, parent.id, parent.tenant_id));
      const amount = dto.amount ?? refundable;
      if (refundable <= 0) throw fieldError('amount', 'the payment is already fully refunded');
      if (amount > refundable)
        throw fieldError('amount', `amount exceeds the refundable rest of ${refundable}`);
      const id = randomUUID();
      const route = manager.getRepository(PaymentRouteEntity).create(
        refundRouteOf(parent, {
          id,
          amount,
          stripe_idempotency_key: `route:${id}:refund`,
          metadata: dto.metadata ?? {},
        }),
      );
      await manager
        .getRepository(PaymentRouteEntity)
        .insert(route as QueryDeepPartialEntity<PaymentRouteEntity>);
      return route;
    });

    const job: RefundReconcileJob = {
      kind: 'refund',
      routeId: route.id,
      input: {
        reason: dto.reason,
        refund_application_fee: dto.refund_application_fee,
        reverse_transfer: dto.reverse_transfer,
        metadata: dto.metadata,
      },
    };
    const attempt = await this.attempt(route, job);
    if (attempt.kind === 'refused') throw attempt.error;
    if (attempt.kind === 'unknown') {
      // The request may have reached Stripe: the refund stays pending (counted against the refundable rest)
      // and the reconcile job repeats the same request under the same key.
      await this.queue.send<RefundReconcileJob>(RECONCILE_QUEUE, job, {
        startAfterSeconds: this.config.reconcileDelaySeconds,
      });
      this.logger.warn(
        `refund route ${route.id}: outcome unknown (${attempt.error.message}); reconcile scheduled`,
      );
      return { state: 'unknown', route: PaymentRouteDto.from(route) };
    }
    await this.applyRefund(route.id, route.tenant_id, attempt.refund);
    await this.reverseSplit(route);
    const saved = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: route.id });
    return { state: 'created', route: PaymentRouteDto.from(saved ?? route) };
  }

  /** The reconcile worker's path: the same request under the same key; an unknown outcome again is retried. */
  async reconcile(job: RefundReconcileJob): Promise<void> {
    const route = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: job.routeId });
    if (!route || route.stripe_object_id !== null || route.status !== PaymentRouteStatus.Pending) return;
    const attempt = await this.attempt(route, job);
    if (attempt.kind === 'unknown') throw attempt.error;
    if (attempt.kind !== 'created') return;
    await this.applyRefund(route.id, route.tenant_id, attempt.refund);
    await this.reverseSplit(route);
  }

  /** A split payment's refund, once made, reverses the tenants' transfers in proportion. */
  private async reverseSplit(route: PaymentRouteEntity): Promise<void> {
    if (route.charge_type === ChargeType.Separate)
      await this.splits.runOrSchedule({ kind: 'reversals', refundId: route.id });
  }

  /** One Refund create under the route's own key; a refusal marks the route failed. */
  private async attempt(route: PaymentRouteEntity, job: RefundReconcileJob): Promise<RefundAttempt> {
    try {
      const refund = await this.gateway.createRefund(refundParams(route, job), {
        idempotencyKey: route.stripe_idempotency_key,
        ...(route.charge_type === ChargeType.Direct ? { stripeAccount: route.stripe_account_id } : {}),
      });
      return { kind: 'created', refund };
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      if (err.code === ErrorCode.StripeUnavailable) return { kind: 'unknown', error: err };
      await this.records.markFailed(
        route.id,
        route.tenant_id,
        (err.details?.stripe as { code?: string } | undefined)?.code ?? err.code,
        err.message,
      );
      return {
        kind: 'refused',
        error: new ServiceException(ErrorCode.RoutingFailed, `Stripe refused the refund: ${err.message}`, {
          payment_route_id: route.id,
          stripe: err.details?.stripe,
        }),
      };
    }
  }

  /**
   * The refund route of a Refund made outside the service (Dashboard, API) on one of our payments, pending until
   * applyRefund writes its state. Idempotent on the Refund's id (the unique stripe_object_id).
   */
  async recordExternalRefund(
    manager: EntityManager,
    parent: PaymentRouteEntity,
    refund: StripeRefund,
  ): Promise<PaymentRouteEntity | null> {
    const repo = manager.getRepository(PaymentRouteEntity);
    await repo
      .createQueryBuilder()
      .insert()
      .values(
        refundRouteOf(parent, {
          id: randomUUID(),
          amount: refund.amount,
          stripe_object_id: refund.id,
          stripe_idempotency_key: `stripe:${refund.id}`,
          metadata: { recorded_from: 'stripe' },
        }) as QueryDeepPartialEntity<PaymentRouteEntity>,
      )
      .orIgnore()
      .execute();
    return repo.findOneBy({ stripe_object_id: refund.id, type: PaymentRouteType.Refund });
  }

  /** Writes a Refund's state onto its route; emits connect.refund.completed/failed once, on the transition. */
  async applyRefund(
    routeId: string,
    tenantId: string,
    refund: StripeRefund,
    manager?: EntityManager,
  ): Promise<PaymentRouteEntity | null> {
    const run = async (m: EntityManager): Promise<PaymentRouteEntity | null> => {
      const row = await m
        .getRepository(PaymentRouteEntity)
        .findOne({ where: { id: routeId, tenant_id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!row) return null;
      row.stripe_object_id = refund.id;
      row.stripe_status = refund.status;
      const implied = routeStatusForRefund(refund.status);
      const next = implied === PaymentRouteStatus.Pending ? row.status : implied;
      const terminal = [PaymentRouteStatus.Completed, PaymentRouteStatus.Failed, PaymentRouteStatus.Canceled];
      const transition = next !== row.status && !terminal.includes(row.status);
      if (transition) row.status = next;
      if (next === PaymentRouteStatus.Failed && transition)
        row.failure_code = refund.failure_reason ?? 'refund_failed';
      await m.getRepository(PaymentRouteEntity).save(row);
      if (transition && next !== PaymentRouteStatus.Pending) {
        await this.events.emit(m, {
          type: next === PaymentRouteStatus.Completed ? 'connect.refund.completed' : 'connect.refund.failed',
          tenant_id: row.tenant_id,
          data: eventData(row),
        });
      }
      return row;
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }
}

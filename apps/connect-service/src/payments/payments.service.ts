import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource, EntityManager } from 'typeorm';
import { Caller, assertTenantAccess, tenantScopeOf } from '@app/auth';
import {
  ServiceException,
  amountProblem,
  keysetPage,
  isKnownCurrency,
  ErrorCode,
  fieldError,
  whileDatabaseUnavailable,
} from '@app/common';
import { paymentsConfig } from '@app/config';
import {
  ChargeType,
  ConnectAccountEntity,
  ConnectAccountStatus,
  FeeSchedule,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
} from '@app/database';
import {
  StripeGateway,
  StripePaymentIntent,
  StripePaymentIntentCreateParams,
  StripeRefund,
  StripeRefundCreateParams,
} from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import {
  CreatePaymentDto,
  CreateRefundDto,
  PaymentDataDto,
  ListPaymentsQueryDto,
  PaymentRouteDto,
  PaymentRouteListDto,
} from './dto/payment.dto';
import { calculateFee } from './fee-calculator';
import { StoredResponse } from './idempotency.service';
import { paymentsTotal } from './payments-metrics';

export const RECONCILE_QUEUE = 'payments.reconcile';

/** What the reconcile job needs to repeat the exact create: the request's own input, not Stripe's params. */
export interface ReconcileJob {
  routeId: string;
  input: PaymentDataDto;
  /** Direct charges: the connected account the PaymentIntent lives on. */
  stripeAccount?: string;
  /** Destination charges: the connected account that receives the transfer. */
  destination?: string;
}

/** The reconcile job of a refund whose outcome was unknown. */
export interface RefundReconcileJob {
  kind: 'refund';
  routeId: string;
  input: Pick<CreateRefundDto, 'reason' | 'refund_application_fee' | 'reverse_transfer' | 'metadata'>;
}

const isRefundJob = (job: ReconcileJob | RefundReconcileJob): job is RefundReconcileJob =>
  'kind' in job && job.kind === 'refund';

const sortedRecord = (r: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Refund parameters in one fixed order (see paymentIntentParams for why). Defaults by charge type:
 * https://docs.stripe.com/connect/direct-charges#issue-refunds and
 * https://docs.stripe.com/connect/destination-charges#issue-refunds
 */
export function refundParams(route: PaymentRouteEntity, job: RefundReconcileJob): StripeRefundCreateParams {
  const d = job.input;
  const direct = route.charge_type === ChargeType.Direct;
  const params: StripeRefundCreateParams = {
    payment_intent: route.stripe_payment_intent_id!,
    amount: route.amount,
  };
  if (d.reason) params.reason = d.reason;
  if (direct) params.refund_application_fee = d.refund_application_fee ?? true;
  else {
    params.reverse_transfer = d.reverse_transfer ?? true;
    if (d.refund_application_fee !== undefined) params.refund_application_fee = d.refund_application_fee;
  }
  params.metadata = sortedRecord({
    ...(d.metadata ?? {}),
    tenant_id: route.tenant_id,
    payment_route_id: route.id,
    parent_payment_route_id: route.parent_id ?? '',
  });
  return params;
}

/**
 * The PaymentIntent create parameters, built in one fixed order from the route and the request's input. The
 * reconcile job rebuilds them after a JSON round trip through the job table (jsonb reorders keys), and Stripe
 * refuses a replayed idempotency key whose parameters differ (https://docs.stripe.com/api/idempotent_requests).
 */
export function paymentIntentParams(
  route: PaymentRouteEntity,
  job: ReconcileJob,
): StripePaymentIntentCreateParams {
  const p = job.input;
  const params: StripePaymentIntentCreateParams = {
    amount: route.amount,
    currency: route.currency.trim(),
    application_fee_amount: route.fee,
    // The webhook intake resolves the tenant of platform-side events through this metadata.
    metadata: sortedRecord({ ...(p.metadata ?? {}), tenant_id: route.tenant_id, payment_route_id: route.id }),
  };
  if (p.payment_method) params.payment_method = p.payment_method;
  if (p.confirm !== undefined) params.confirm = p.confirm;
  else if (p.payment_method) params.confirm = true;
  if (p.customer) params.customer = p.customer;
  if (p.capture_method) params.capture_method = p.capture_method;
  if (p.description) params.description = p.description;
  if (p.statement_descriptor_suffix) params.statement_descriptor_suffix = p.statement_descriptor_suffix;
  // https://docs.stripe.com/connect/destination-charges: on the platform, money moves with transfer_data.
  if (job.destination) {
    params.transfer_data = { destination: job.destination };
    if (p.on_behalf_of) params.on_behalf_of = p.on_behalf_of;
  }
  return params;
}

/** The route status a PaymentIntent status implies at creation; completion itself arrives by webhook. */
function routeStatusOf(pi: StripePaymentIntent): PaymentRouteStatus {
  switch (pi.status) {
    case 'requires_action':
      return PaymentRouteStatus.RequiresAction;
    case 'processing':
      return PaymentRouteStatus.Processing;
    case 'canceled':
      return PaymentRouteStatus.Canceled;
    default:
      return PaymentRouteStatus.Pending;
  }
}

@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('PaymentsService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
    @Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>,
  ) {}

  platformFeeSchedule(): FeeSchedule {
    return {
      basis_points: this.config.feeBasisPoints,
      fixed: this.config.feeFixed,
      minimum: this.config.feeMinimum,
      maximum: this.config.feeMaximum,
    };
  }

  /** AccountInvalid with the reason when the tenant cannot take charges, before Stripe is called. */
  async chargeableAccount(tenantId: string): Promise<ConnectAccountEntity> {
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: tenantId });
    const refuse = (reason: string, message: string): never => {
      throw new ServiceException(ErrorCode.AccountInvalid, message, { tenant_id: tenantId, reason });
    };
    if (!account) return refuse('not_connected', `Tenant ${tenantId} has no connected Stripe account`);
    if (account.disconnected_at)
      return refuse('disconnected', `Tenant ${tenantId}'s Stripe account is disconnected`);
    if (account.status !== ConnectAccountStatus.Active) {
      return refuse(
        `status_${account.status}`,
        `Tenant ${tenantId}'s Stripe account is ${account.status}, not active`,
      );
    }
    if (!account.charges_enabled)
      return refuse('charges_disabled', `Tenant ${tenantId}'s Stripe account cannot take charges`);
    return account;
  }

  /**
   * Routes a payment: a `pending` route first, then the PaymentIntent under a key derived from the
   * route, so no retry of ours (or of the reconcile job) can create a second one. Answers 201 with the route,
   * or 202 while the outcome is unknown (Stripe unreachable after the request may have gone out).
   */
  async create(dto: CreatePaymentDto): Promise<StoredResponse> {
    const p = dto.payment_data;
    if (!isKnownCurrency(p.currency))
      throw fieldError('payment_data.currency', `currency ${p.currency} is not supported`);
    const problem = amountProblem(p.amount, p.currency);
    if (problem) throw fieldError('payment_data.amount', problem.message);
    const chargeType = p.charge_type ?? ChargeType.Direct;
    if (p.on_behalf_of && chargeType !== ChargeType.Destination) {
      throw fieldError('payment_data.on_behalf_of', 'on_behalf_of applies to destination charges only');
    }
    const account = await this.chargeableAccount(dto.tenant_id);
    const fee = calculateFee(p.amount, p.currency, account.fee_schedule ?? this.platformFeeSchedule());

    const id = randomUUID();
    const route = this.dataSource.getRepository(PaymentRouteEntity).create({
      id,
      tenant_id: dto.tenant_id,
      stripe_account_id: account.stripe_account_id,
      type: PaymentRouteType.Payment,
      status: PaymentRouteStatus.Pending,
      charge_type: chargeType,
      amount: p.amount,
      fee,
      currency: p.currency,
      stripe_idempotency_key: `route:${id}:create`,
      description: p.description ?? null,
      metadata: p.metadata ?? {},
      stripe_details: {},
    });
    await this.dataSource
      .getRepository(PaymentRouteEntity)
      .insert(route as QueryDeepPartialEntity<PaymentRouteEntity>);

    const job: ReconcileJob = {
      routeId: id,
      input: { ...p, charge_type: chargeType },
      stripeAccount: chargeType === ChargeType.Direct ? account.stripe_account_id : undefined,
      destination: chargeType === ChargeType.Destination ? account.stripe_account_id : undefined,
    };
    return this.attempt(route, job);
  }

  /** One attempt at creating the route's PaymentIntent; shared by the request and the reconcile job. */
  async attempt(route: PaymentRouteEntity, job: ReconcileJob, fromJob = false): Promise<StoredResponse> {
    let pi: StripePaymentIntent;
    try {
      pi = await this.gateway.createPaymentIntent(paymentIntentParams(route, job), {
        idempotencyKey: route.stripe_idempotency_key,
        ...(job.stripeAccount ? { stripeAccount: job.stripeAccount } : {}),
      });
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      if (err.code === ErrorCode.StripeUnavailable) {
        if (fromJob) throw err;
        // The request may have reached Stripe: keep the route pending and resolve it by the same key later.
        await this.queue.send<ReconcileJob>(RECONCILE_QUEUE, job, {
          startAfterSeconds: this.config.reconcileDelaySeconds,
        });
        paymentsTotal.inc({
          currency: route.currency,
          charge_type: route.charge_type ?? 'none',
          outcome: 'unknown',
        });
        this.logger.warn(`payment route ${route.id}: outcome unknown (${err.message}); reconcile scheduled`);
        return { status: 202, body: PaymentRouteDto.from(route) };
      }
      const stripe = (err.details?.stripe ?? {}) as { code?: string; decline_code?: string; type?: string };
      const declined = err.code === ErrorCode.CardDeclined;
      const failureCode = declined
        ? (stripe.decline_code ?? stripe.code ?? 'card_declined')
        : (stripe.code ?? stripe.type ?? err.code);
      const failed = await this.markFailed(route.id, failureCode, err.message, declined);
      paymentsTotal.inc({
        currency: route.currency,
        charge_type: route.charge_type ?? 'none',
        outcome: declined ? 'declined' : 'failed',
      });
      if (fromJob) return { status: 200, body: failed ? PaymentRouteDto.from(failed) : null };
      if (declined) {
        throw new ServiceException(ErrorCode.CardDeclined, err.message || 'The card was declined', {
          decline_code: failureCode,
          payment_route_id: route.id,
          stripe,
        });
      }
      throw new ServiceException(
        ErrorCode.RoutingFailed,
        `Stripe refused to route the payment: ${err.message}`,
        {
          payment_route_id: route.id,
          stripe,
        },
      );
    }
    // Stripe has the PaymentIntent now: recording it must outlast a database restart, or the route stays pending and
    // the client's retry creates a second one.
    const stored = await whileDatabaseUnavailable(() =>
      this.dataSource.transaction(async (manager) => {
        const row = await manager
          .getRepository(PaymentRouteEntity)
          .findOneOrFail({ where: { id: route.id }, lock: { mode: 'pessimistic_write' } });
        const firstTime = row.stripe_payment_intent_id === null;
        row.stripe_payment_intent_id = pi.id;
        const changes: QueryDeepPartialEntity<PaymentRouteEntity> = { stripe_payment_intent_id: pi.id };
        // A webhook may have completed the route already: never move it back.
        if (row.status === PaymentRouteStatus.Pending || row.status === PaymentRouteStatus.RequiresAction) {
          row.status = routeStatusOf(pi);
          row.stripe_status = pi.status;
          changes.status = row.status;
          changes.stripe_status = row.stripe_status;
        }
        // The charge is known as soon as Stripe answers: application_fee.* and dispute events name only the charge.
        const charge =
          typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);
        if (charge && row.stripe_object_id === null) {
          row.stripe_object_id = charge;
          changes.stripe_object_id = charge;
        }
        // One UPDATE of the row locked above (TypeORM still bumps version and updated_at); save() would SELECT it
        // again first to diff it, one more round trip on the payment hot path.
        await manager.getRepository(PaymentRouteEntity).update(row.id, changes);
        if (firstTime) {
          await this.events.emit(manager, {
            type: 'connect.payment.routed',
            tenant_id: row.tenant_id,
            data: this.eventData(row),
          });
        }
        return row;
      }),
    );
    paymentsTotal.inc({
      currency: route.currency,
      charge_type: route.charge_type ?? 'none',
      outcome: 'routed',
    });
    return { status: 201, body: PaymentRouteDto.from(stored, pi.client_secret ?? null) };
  }

  /** The reconcile worker: replays the create with the route's own key (Stripe answers with the first result). */
  async reconcile(job: ReconcileJob | RefundReconcileJob): Promise<void> {
    if (isRefundJob(job)) {
      const refundRoute = await this.dataSource
        .getRepository(PaymentRouteEntity)
        .findOneBy({ id: job.routeId });
      if (
        !refundRoute ||
        refundRoute.stripe_object_id !== null ||
        refundRoute.status !== PaymentRouteStatus.Pending
      )
        return;
      await this.attemptRefund(refundRoute, job, true);
      return;
    }
    const route = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: job.routeId });
    if (!route || route.stripe_payment_intent_id !== null || route.status !== PaymentRouteStatus.Pending)
      return;
    await this.attempt(route, job, true);
  }

  private async markFailed(
    id: string,
    code: string,
    message: string,
    declined = false,
  ): Promise<PaymentRouteEntity | null> {
    return this.dataSource.transaction(async (manager) => {
      const row = await manager
        .getRepository(PaymentRouteEntity)
        .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row || row.status === PaymentRouteStatus.Completed || row.status === PaymentRouteStatus.Failed)
        return row;
      row.status = PaymentRouteStatus.Failed;
      row.failure_code = code.slice(0, 128);
      row.failure_message = message;
      // A card decline, as analytics tells it apart from other failures: https://docs.stripe.com/declines
      if (declined) row.stripe_details = { ...(row.stripe_details ?? {}), declined: true };
      await manager.getRepository(PaymentRouteEntity).save(row);
      await this.events.emit(manager, {
        type: row.type === PaymentRouteType.Refund ? 'connect.refund.failed' : 'connect.payment.failed',
        tenant_id: row.tenant_id,
        data: this.eventData(row),
      });
      return row;
    });
  }

  eventData(row: PaymentRouteEntity): Record<string, unknown> {
    return {
      payment_route_id: row.id,
      type: row.type,
      status: row.status,
      amount: row.amount,
      fee: row.fee,
      currency: row.currency.trim(),
      charge_type: row.charge_type,
      stripe_account_id: row.stripe_account_id,
      payment_intent_id: row.stripe_payment_intent_id,
      stripe_object_id: row.stripe_object_id,
      parent_id: row.parent_id,
      failure_code: row.failure_code,
    };
  }

  async get(caller: Caller, id: string): Promise<PaymentRouteEntity> {
    const route = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id });
    if (!route) throw new ServiceException(ErrorCode.NotFound, `No payment ${id}`);
    assertTenantAccess(caller, route.tenant_id);
    return route;
  }

  /** Keyset pagination on (created_at, id), newest first: served by ix_payment_routes_tenant_created. */
  async list(caller: Caller, q: ListPaymentsQueryDto): Promise<PaymentRouteListDto> {
    const limit = q.limit ?? 20;
    const tenantId = tenantScopeOf(caller) ?? q.tenant_id ?? null;
    const qb = this.dataSource.getRepository(PaymentRouteEntity).createQueryBuilder('p');
    if (tenantId !== null) qb.andWhere('p.tenant_id = :tenantId', { tenantId });
    if (q.status) qb.andWhere('p.status = :status', { status: q.status });
    if (q.type) qb.andWhere('p.type = :type', { type: q.type });
    if (q.created_gte) qb.andWhere('p.created_at >= :gte', { gte: new Date(q.created_gte) });
    if (q.created_lt) qb.andWhere('p.created_at < :lt', { lt: new Date(q.created_lt) });
    const page = await keysetPage(qb, { column: 'created_at', limit, cursor: q.cursor });
    return {
      data: page.rows.map((r) => PaymentRouteDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  /**
   * Refunds a payment (https://docs.stripe.com/api/refunds/create). The parent row is locked while the
   * refundable rest is computed and the refund route recorded, so concurrent refunds cannot exceed the amount.
   */
  async refund(caller: Caller, paymentId: string, dto: CreateRefundDto): Promise<StoredResponse> {
    const route = await this.dataSource.transaction(async (manager: EntityManager) => {
      const parent = await manager
        .getRepository(PaymentRouteEntity)
        .findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
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
      const [{ refunded }] = (await manager.query(
        `SELECT COALESCE(SUM(amount), 0)::bigint AS refunded FROM payment_routes
          WHERE parent_id = $1 AND type = 'refund' AND status NOT IN ('failed', 'canceled')`,
        [parent.id],
      )) as { refunded: string }[];
      const refundable = parent.amount - Number(refunded);
      const amount = dto.amount ?? refundable;
      if (refundable <= 0) throw fieldError('amount', 'the payment is already fully refunded');
      if (amount > refundable)
        throw fieldError('amount', `amount exceeds the refundable rest of ${refundable}`);
      const id = randomUUID();
      const route = manager.getRepository(PaymentRouteEntity).create({
        id,
        tenant_id: parent.tenant_id,
        stripe_account_id: parent.stripe_account_id,
        type: PaymentRouteType.Refund,
        status: PaymentRouteStatus.Pending,
        charge_type: parent.charge_type,
        amount,
        fee: 0,
        currency: parent.currency,
        parent_id: parent.id,
        stripe_payment_intent_id: parent.stripe_payment_intent_id,
        stripe_idempotency_key: `route:${id}:refund`,
        metadata: dto.metadata ?? {},
        stripe_details: {},
      });
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
    const outcome = await this.attemptRefund(route, job, false);
    if (outcome === 'unknown') return { status: 202, body: PaymentRouteDto.from(route) };
    const saved = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: route.id });
    return { status: 201, body: PaymentRouteDto.from(saved ?? route) };
  }

  /**
   * One attempt at creating the refund route's Refund under the route's own key. Unknown outcome: the refund
   * stays pending (and counted against the refundable rest) and the reconcile job repeats the same request.
   */
  private async attemptRefund(
    route: PaymentRouteEntity,
    job: RefundReconcileJob,
    fromJob: boolean,
  ): Promise<StripeRefund | 'unknown'> {
    const direct = route.charge_type === ChargeType.Direct;
    let refund: StripeRefund;
    try {
      refund = await this.gateway.createRefund(refundParams(route, job), {
        idempotencyKey: route.stripe_idempotency_key,
        ...(direct ? { stripeAccount: route.stripe_account_id } : {}),
      });
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      if (err.code === ErrorCode.StripeUnavailable) {
        if (fromJob) throw err;
        await this.queue.send<RefundReconcileJob>(RECONCILE_QUEUE, job, {
          startAfterSeconds: this.config.reconcileDelaySeconds,
        });
        this.logger.warn(`refund route ${route.id}: outcome unknown (${err.message}); reconcile scheduled`);
        return 'unknown';
      }
      await this.markFailed(
        route.id,
        (err.details?.stripe as { code?: string } | undefined)?.code ?? err.code,
        err.message,
      );
      if (fromJob) return 'unknown';
      throw new ServiceException(ErrorCode.RoutingFailed, `Stripe refused the refund: ${err.message}`, {
        payment_route_id: route.id,
        stripe: err.details?.stripe,
      });
    }
    await this.applyRefund(route.id, refund);
    return refund;
  }

  /** Writes a Refund's state onto its route; emits connect.refund.completed/failed once, on the transition. */
  async applyRefund(
    routeId: string,
    refund: StripeRefund,
    manager?: EntityManager,
  ): Promise<PaymentRouteEntity | null> {
    const run = async (m: EntityManager): Promise<PaymentRouteEntity | null> => {
      const row = await m
        .getRepository(PaymentRouteEntity)
        .findOne({ where: { id: routeId }, lock: { mode: 'pessimistic_write' } });
      if (!row) return null;
      row.stripe_object_id = refund.id;
      row.stripe_status = refund.status;
      const next =
        refund.status === 'succeeded'
          ? PaymentRouteStatus.Completed
          : refund.status === 'failed'
            ? PaymentRouteStatus.Failed
            : refund.status === 'canceled'
              ? PaymentRouteStatus.Canceled
              : row.status;
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
          data: this.eventData(row),
        });
      }
      return row;
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }
}

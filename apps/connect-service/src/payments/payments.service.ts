import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource } from 'typeorm';
import { Caller, assertTenantAccess, tenantScopeOf } from '@app/auth';
import {
  ServiceException,
  amountProblem,
  cursorTimestampSql,
  decodeKeysetCursor,
  encodeKeysetCursor,
  isKnownCurrency,
  ErrorCode,
  fieldError,
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
import { StripeGateway, StripePaymentIntent } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import {
  CreatePaymentDto,
  ListPaymentsQueryDto,
  PaymentRouteDto,
  PaymentRouteListDto,
} from './dto/payment.dto';
import { calculateFee } from './fee-calculator';
import { paymentsTotal } from './payments-metrics';
import { RouteOutcome, RouteRecords, eventData } from './route-records.service';
import { RECONCILE_QUEUE, ReconcileJob, paymentIntentParams, routeStatusOf } from './stripe-params';

interface StripeErrorDetails {
  code?: string;
  decline_code?: string;
  type?: string;
  param?: string;
}
interface Refused {
  kind: 'refused';
  error: ServiceException;
  declined: boolean;
  failureCode: string;
  stripe: StripeErrorDetails;
}
type IntentAttempt =
  { kind: 'created'; pi: StripePaymentIntent } | { kind: 'unknown'; error: ServiceException } | Refused;

@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('PaymentsService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
    private readonly records: RouteRecords,
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
   * Routes a payment (issue 6): a `pending` route first, then the PaymentIntent under a key derived from the
   * route, so no retry of ours (or of the reconcile job) can create a second one. `unknown` while Stripe's
   * answer is missing (unreachable after the request may have gone out).
   */
  async create(dto: CreatePaymentDto): Promise<RouteOutcome> {
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
    return this.route(route, job);
  }

  /** The request's path: one attempt; an unknown outcome schedules the reconcile job instead of failing. */
  private async route(route: PaymentRouteEntity, job: ReconcileJob): Promise<RouteOutcome> {
    const attempt = await this.requestIntent(route, job);
    if (attempt.kind === 'unknown') {
      // The request may have reached Stripe: keep the route pending and resolve it by the same key later.
      await this.queue.send<ReconcileJob>(RECONCILE_QUEUE, job, {
        startAfterSeconds: this.config.reconcileDelaySeconds,
      });
      this.count(route, 'unknown');
      this.logger.warn(
        `payment route ${route.id}: outcome unknown (${attempt.error.message}); reconcile scheduled`,
      );
      return { state: 'unknown', route: PaymentRouteDto.from(route) };
    }
    if (attempt.kind === 'refused') {
      await this.fail(route, attempt);
      throw attempt.declined
        ? new ServiceException(ErrorCode.CardDeclined, attempt.error.message || 'The card was declined', {
            decline_code: attempt.failureCode,
            payment_route_id: route.id,
            stripe: attempt.stripe,
          })
        : new ServiceException(
            ErrorCode.RoutingFailed,
            `Stripe refused to route the payment: ${attempt.error.message}`,
            { payment_route_id: route.id, stripe: attempt.stripe },
          );
    }
    const stored = await this.recordIntent(route, attempt.pi);
    return { state: 'created', route: PaymentRouteDto.from(stored, attempt.pi.client_secret ?? null) };
  }

  /**
   * The reconcile worker: replays the create with the route's own key (Stripe answers with the first result). An
   * unknown outcome again is thrown, so the queue retries it with backoff.
   */
  async reconcile(job: ReconcileJob): Promise<void> {
    const route = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: job.routeId });
    if (!route || route.stripe_payment_intent_id !== null || route.status !== PaymentRouteStatus.Pending)
      return;
    const attempt = await this.requestIntent(route, job);
    if (attempt.kind === 'unknown') throw attempt.error;
    if (attempt.kind === 'refused') await this.fail(route, attempt);
    else await this.recordIntent(route, attempt.pi);
  }

  /** One PaymentIntent create under the route's key, classified: created, refused by Stripe, or unknown. */
  private async requestIntent(route: PaymentRouteEntity, job: ReconcileJob): Promise<IntentAttempt> {
    try {
      const pi = await this.gateway.createPaymentIntent(paymentIntentParams(route, job), {
        idempotencyKey: route.stripe_idempotency_key,
        ...(job.stripeAccount ? { stripeAccount: job.stripeAccount } : {}),
      });
      return { kind: 'created', pi };
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      if (err.code === ErrorCode.StripeUnavailable) return { kind: 'unknown', error: err };
      const stripe = (err.details?.stripe ?? {}) as StripeErrorDetails;
      const declined = err.code === ErrorCode.CardDeclined;
      const failureCode = declined
        ? (stripe.decline_code ?? stripe.code ?? 'card_declined')
        : (stripe.code ?? stripe.type ?? err.code);
      return { kind: 'refused', error: err, declined, failureCode, stripe };
    }
  }

  private async fail(route: PaymentRouteEntity, attempt: Refused): Promise<void> {
    await this.records.markFailed(route.id, attempt.failureCode, attempt.error.message);
    this.count(route, attempt.declined ? 'declined' : 'failed');
  }

  private count(route: PaymentRouteEntity, outcome: string): void {
    paymentsTotal.inc({ currency: route.currency, charge_type: route.charge_type ?? 'none', outcome });
  }

  /** Records the PaymentIntent on the route; emits connect.payment.routed the first time. */
  private async recordIntent(
    route: PaymentRouteEntity,
    pi: StripePaymentIntent,
  ): Promise<PaymentRouteEntity> {
    const stored = await this.dataSource.transaction(async (manager) => {
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
      // One UPDATE of the row locked above (TypeORM still bumps version and updated_at); save() would SELECT it
      // again first to diff it, one more round trip on the payment hot path.
      await manager.getRepository(PaymentRouteEntity).update(row.id, changes);
      if (firstTime) {
        await this.events.emit(manager, {
          type: 'connect.payment.routed',
          tenant_id: row.tenant_id,
          data: eventData(row),
        });
      }
      return row;
    });
    this.count(route, 'routed');
    return stored;
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
    if (q.cursor) {
      const c = decodeKeysetCursor(q.cursor);
      // The cursor keeps PostgreSQL's microseconds: a JS Date (milliseconds) would skip or repeat rows.
      qb.andWhere('(p.created_at, p.id) < (CAST(:cAt AS timestamptz), CAST(:cId AS uuid))', {
        cAt: c.at,
        cId: c.id,
      });
    }
    qb.addSelect(cursorTimestampSql('p.created_at'), 'p_cursor_at');
    const { entities, raw } = await qb
      .orderBy('p.created_at', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .limit(limit + 1)
      .getRawAndEntities<{ p_id: string; p_cursor_at: string }>();
    const hasMore = entities.length > limit;
    const page = entities.slice(0, limit);
    const last = page[page.length - 1];
    const lastRaw = last ? raw.find((r) => r.p_id === last.id) : undefined;
    return {
      data: page.map((r) => PaymentRouteDto.from(r)),
      has_more: hasMore,
      next_cursor: hasMore && last && lastRaw ? encodeKeysetCursor(lastRaw.p_cursor_at, last.id) : null,
    };
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Caller, assertTenantAccess, tenantScopeOf } from '@app/auth';
import {
  ServiceException,
  amountProblem,
  keysetPage,
  isKnownCurrency,
  ErrorCode,
  fieldError,
} from '@app/common';
import { ChargeType, ConnectAccountEntity, PaymentRouteEntity, PaymentRouteStatus } from '@app/database';
import { FeePolicy } from '../fees/fee-policy';
import { RoutingService } from '../routing/routing.service';
import {
  CreatePaymentDto,
  ListPaymentsQueryDto,
  PaymentRouteDto,
  PaymentRouteListDto,
} from './dto/payment.dto';
import { IdempotencyClaim } from './idempotency.service';
import { PaymentOutcomes } from './payment-outcomes.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { RouteOutcome } from './route-records.service';
import { chargeable } from './route-plan';
import { RoutedPaymentPipeline } from './routed-payment.pipeline';
import { SplitTransfersService } from './split-transfers.service';
import { ReconcileJob } from './stripe-params';
import { assertChargeAllowed } from '../accounts/charge-type-check';

@Injectable()
export class PaymentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routes: PaymentRoutesRepository,
    private readonly routing: RoutingService,
    private readonly routed: RoutedPaymentPipeline,
    private readonly outcomes: PaymentOutcomes,
    private readonly fees: FeePolicy,
    private readonly splits: SplitTransfersService,
  ) {}

  /** AccountInvalid with the reason when the tenant cannot take charges, before Stripe is called. */
  async chargeableAccount(tenantId: string): Promise<ConnectAccountEntity> {
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: tenantId });
    return chargeable(tenantId, account);
  }

  /**
   * Routes a payment: a `pending` route first, then the PaymentIntent under a key derived from the
   * route, so no retry of ours (or of the reconcile job) can create a second one. `unknown` while Stripe's
   * answer is missing (unreachable after the request may have gone out). Under an active rule set the
   * RoutedPaymentPipeline takes it from the account and rule set this resolves.
   */
  async create(dto: CreatePaymentDto, claim: IdempotencyClaim | null = null): Promise<RouteOutcome> {
    const p = dto.payment_data;
    if (!isKnownCurrency(p.currency))
      throw fieldError('payment_data.currency', `currency ${p.currency} is not supported`);
    const problem = amountProblem(p.amount, p.currency);
    if (problem) throw fieldError('payment_data.amount', problem.message);
    const read = await this.routes.readForPayment(dto.tenant_id);
    const active = await this.routing.compiledActive(read.ruleSetId);
    if (active) return this.routed.run(dto, active, read.account, claim);
    const chargeType = p.charge_type ?? ChargeType.Direct;
    if (p.on_behalf_of && chargeType !== ChargeType.Destination) {
      throw fieldError('payment_data.on_behalf_of', 'on_behalf_of applies to destination charges only');
    }
    const account = chargeable(dto.tenant_id, read.account);
    assertChargeAllowed(account, chargeType, !!p.on_behalf_of);
    const fee = this.fees.feeFor(p.amount, p.currency, {}, account);

    const id = randomUUID();
    const draft = this.outcomes.draft(id, dto, account, { charge_type: chargeType, fee });
    const { route, rowVersion } = await this.outcomes.insertRoute(draft, claim);

    const job: ReconcileJob = {
      routeId: id,
      input: { ...p, charge_type: chargeType },
      stripeAccount: chargeType === ChargeType.Direct ? account.stripe_account_id : undefined,
      destination: chargeType === ChargeType.Destination ? account.stripe_account_id : undefined,
    };
    return this.outcomes.route(route, job, undefined, { rowVersion, claim });
  }

  /**
   * The reconcile worker: replays the create with the route's own key (Stripe answers with the first result). An
   * unknown outcome again is thrown, so the queue retries it with backoff.
   */
  async reconcile(job: ReconcileJob): Promise<void> {
    const route = await this.dataSource.getRepository(PaymentRouteEntity).findOneBy({ id: job.routeId });
    if (route?.stripe_payment_intent_id) {
      // A webhook learned the PaymentIntent first (maybe before the unknown attempt was even recorded).
      await this.routes.resolveAttempt(route.id, route.tenant_id, {
        outcome: 'succeeded',
        payment_intent: route.stripe_payment_intent_id,
      });
      return;
    }
    if (!route || route.status !== PaymentRouteStatus.Pending) return;
    const attempt = await this.outcomes.requestIntent(route, job);
    if (attempt.kind === 'unknown') throw attempt.error;
    const resolved =
      attempt.kind === 'refused'
        ? { outcome: 'failed', failure_code: attempt.failureCode, message: attempt.error.message }
        : { outcome: 'succeeded', payment_intent: attempt.pi.id };
    await this.routes.resolveAttempt(route.id, route.tenant_id, resolved);
    if (attempt.kind === 'refused') {
      await this.outcomes.fail(route, attempt);
      if (route.charge_type === ChargeType.Separate) await this.routed.cancelTransfers(route.id);
      return;
    }
    await this.outcomes.recordIntent(route, attempt.pi);
    if (route.charge_type === ChargeType.Separate && attempt.pi.status === 'succeeded')
      await this.splits.runOrSchedule({ kind: 'transfers', paymentId: route.id });
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
}

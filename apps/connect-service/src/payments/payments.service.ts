import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource, In, IsNull } from 'typeorm';
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
  PaymentAttempt,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
} from '@app/database';
import { StripeGateway, StripePaymentIntent } from '@app/stripe-gateway';
import { ActiveRouting, RoutingService, chargeTypeOf } from '../routing/routing.service';
import { paymentContext } from '../routing/rule-context';
import type { Route } from '../routing/rule-types';
import { splitAmounts } from '../routing/split-allocation';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import {
  CreatePaymentDto,
  PaymentDataDto,
  ListPaymentsQueryDto,
  PaymentRouteDto,
  PaymentRouteListDto,
} from './dto/payment.dto';
import { paymentsTotal } from './payments-metrics';
import { RouteOutcome, RouteRecords, eventData } from './route-records.service';
import { AttemptPlan, accountSideRefusal, ineligibility, servesNothing } from './route-plan';
import { SplitTransfersService } from './split-transfers.service';
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
    private readonly routing: RoutingService,
    private readonly splits: SplitTransfersService,
    @Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>,
  ) {}

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
   * route, so no retry of ours (or of the reconcile job) can create a second one. `unknown` while Stripe's
   * answer is missing (unreachable after the request may have gone out).
   */
  async create(dto: CreatePaymentDto): Promise<RouteOutcome> {
    const p = dto.payment_data;
    if (!isKnownCurrency(p.currency))
      throw fieldError('payment_data.currency', `currency ${p.currency} is not supported`);
    const problem = amountProblem(p.amount, p.currency);
    if (problem) throw fieldError('payment_data.amount', problem.message);
    const active = await this.routing.active();
    if (active) return this.createRouted(dto, active);
    const chargeType = p.charge_type ?? ChargeType.Direct;
    if (p.on_behalf_of && chargeType !== ChargeType.Destination) {
      throw fieldError('payment_data.on_behalf_of', 'on_behalf_of applies to destination charges only');
    }
    const account = await this.chargeableAccount(dto.tenant_id);
    const fee = this.routing.feeFor(p.amount, p.currency, {}, account);

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

  /**
   * A payment under the active rule set: one evaluation by one version decides the route and its alternatives,
   * recorded on the route before Stripe is called. Each route is tried in order: not eligible (capabilities) or
   * refused on the account's side → the next, under a new key (Stripe replays a cached 400 under the old one);
   * a decline or any other refusal ends it; an unknown outcome is never followed by another attempt.
   */
  private async createRouted(dto: CreatePaymentDto, active: ActiveRouting): Promise<RouteOutcome> {
    const p = dto.payment_data;
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: dto.tenant_id });
    if (!account || servesNothing(account)) await this.chargeableAccount(dto.tenant_id);
    const id = randomUUID();
    const decision = active.compiled.evaluate(paymentContext(id, dto.tenant_id, p, account));
    const routing = { rule_set_id: active.id, version: active.version, rule: decision.rule };
    if (decision.route.block) {
      throw new ServiceException(
        ErrorCode.PaymentBlocked,
        `The payment is blocked: ${decision.route.block.reason}`,
        {
          reason: decision.route.block.reason,
          ...routing,
        },
      );
    }
    // A pinned charge type keeps working: it replaces the rule's, and alternatives (other kinds) are not tried.
    const routes = p.charge_type
      ? [{ ...decision.route, charge_type: p.charge_type, split: undefined }]
      : [decision.route, ...decision.alternatives.filter((r) => !r.block)];
    const splitAccounts = await this.splitAccounts(routes);
    const plans = routes.map((r) => this.plan(id, dto, account!, r, splitAccounts));
    const repo = this.dataSource.getRepository(PaymentRouteEntity);
    const first = plans[0];
    const route = repo.create({
      id,
      tenant_id: dto.tenant_id,
      stripe_account_id: account!.stripe_account_id,
      type: PaymentRouteType.Payment,
      status: PaymentRouteStatus.Pending,
      charge_type: first.chargeType,
      amount: p.amount,
      fee: first.fee,
      currency: p.currency,
      stripe_idempotency_key: `route:${id}:create`,
      description: p.description ?? null,
      metadata: p.metadata ?? {},
      stripe_details: {},
      routing_rule_set_id: active.id,
      routing_version: active.version,
      routing_rule: decision.rule,
      attempts: [],
      transfer_group: first.transferGroup ?? null,
    });
    await repo.insert(route as QueryDeepPartialEntity<PaymentRouteEntity>);

    let last: { code: string; message: string; stripe?: StripeErrorDetails } | null = null;
    for (const [n, plan] of plans.entries()) {
      const notEligible = ineligibility(plan, account!, splitAccounts);
      if (notEligible) {
        await this.addAttempt(route, {
          route: plan.route,
          outcome: 'not_eligible',
          failure_code: notEligible,
          payment_intent: null,
        });
        last = { code: notEligible, message: `route ${n + 1} is not eligible: ${notEligible}` };
        continue;
      }
      const key = n === 0 ? `route:${id}:create` : `route:${id}:attempt:${n + 1}`;
      await this.prepareAttempt(route, plan, key);
      const job: ReconcileJob = {
        routeId: id,
        input: plan.input,
        stripeAccount: plan.stripeAccount,
        destination: plan.destination,
        transferGroup: plan.transferGroup,
      };
      const attempt = await this.requestIntent(route, job);
      if (attempt.kind === 'created') {
        await this.addAttempt(route, {
          route: plan.route,
          outcome: 'succeeded',
          failure_code: null,
          payment_intent: attempt.pi.id,
          idempotency_key: key,
        });
        const stored = await this.recordIntent(route, attempt.pi);
        if (plan.transfers.length && attempt.pi.status === 'succeeded')
          await this.splits.runOrSchedule({ kind: 'transfers', paymentId: id });
        return { state: 'created', route: PaymentRouteDto.from(stored, attempt.pi.client_secret ?? null) };
      }
      if (attempt.kind === 'unknown') {
        await this.addAttempt(route, {
          route: plan.route,
          outcome: 'unknown',
          failure_code: null,
          payment_intent: null,
          idempotency_key: key,
        });
        return this.route(route, job, attempt);
      }
      const sideCode = accountSideRefusal(attempt.stripe, plan.chargeType, attempt.error.message);
      await this.addAttempt(route, {
        route: plan.route,
        outcome: 'failed',
        failure_code: sideCode ?? attempt.failureCode,
        payment_intent: null,
        idempotency_key: key,
        message: attempt.error.message,
      });
      if (plan.transfers.length) await this.cancelTransfers(id);
      if (!sideCode || attempt.declined) return this.route(route, job, attempt);
      last = { code: sideCode, message: attempt.error.message, stripe: attempt.stripe };
    }
    await this.records.markFailed(id, last?.code ?? 'no_route', last?.message ?? 'no route could serve');
    this.count(route, 'failed');
    throw new ServiceException(
      ErrorCode.RoutingFailed,
      `No route could serve the payment: ${last?.message ?? ''}`,
      {
        payment_route_id: id,
        attempts: (await repo.findOneByOrFail({ id })).attempts.map((a) => ({
          outcome: a.outcome,
          failure_code: a.failure_code,
        })),
        ...(last?.stripe ? { stripe: last.stripe } : {}),
      },
    );
  }

  /** The connected accounts of the tenants the routes split to. */
  private async splitAccounts(routes: Route[]): Promise<Map<string, ConnectAccountEntity>> {
    const tenants = [...new Set(routes.flatMap((r) => (r.split ?? []).map((s) => s.tenant_id)))];
    if (!tenants.length) return new Map();
    const rows = await this.dataSource.getRepository(ConnectAccountEntity).findBy({ tenant_id: In(tenants) });
    return new Map(rows.map((a) => [a.tenant_id, a]));
  }

  /** A route made concrete for this payment: charge type, fee, Stripe accounts, the transfers of a split. */
  private plan(
    id: string,
    dto: CreatePaymentDto,
    account: ConnectAccountEntity,
    route: Route,
    splitAccounts: Map<string, ConnectAccountEntity>,
  ): AttemptPlan {
    const p = dto.payment_data;
    const chargeType = chargeTypeOf(route);
    let fee = this.routing.feeFor(p.amount, p.currency, route, account);
    let transfers: AttemptPlan['transfers'] = [];
    if (chargeType === ChargeType.Separate && route.split) {
      const amounts = splitAmounts(p.amount, fee, route.split);
      if (!amounts)
        throw fieldError('payment_data.amount', 'the amount does not cover the split’s fixed parts');
      transfers = route.split.map((s, i) => ({
        tenant_id: s.tenant_id,
        stripe_account_id: splitAccounts.get(s.tenant_id)?.stripe_account_id ?? '',
        amount: amounts[i],
      }));
      fee = p.amount - amounts.reduce((a, b) => a + b, 0);
    }
    const input: PaymentDataDto = {
      ...p,
      charge_type: chargeType,
      capture_method: route.capture_method ?? p.capture_method,
      statement_descriptor_suffix: p.statement_descriptor_suffix ?? route.statement_descriptor_suffix,
      on_behalf_of:
        chargeType === ChargeType.Destination
          ? route.on_behalf_of
            ? account.stripe_account_id
            : p.on_behalf_of
          : undefined,
    };
    return {
      route,
      chargeType,
      fee,
      input,
      stripeAccount: chargeType === ChargeType.Direct ? account.stripe_account_id : undefined,
      destination: chargeType === ChargeType.Destination ? account.stripe_account_id : undefined,
      transferGroup: chargeType === ChargeType.Separate ? `route_${id}` : undefined,
      transfers,
    };
  }

  /** Before the attempt's Stripe call: its key, charge type and fee on the route, its transfers as child routes. */
  private async prepareAttempt(route: PaymentRouteEntity, plan: AttemptPlan, key: string): Promise<void> {
    route.stripe_idempotency_key = key;
    route.charge_type = plan.chargeType;
    route.fee = plan.fee;
    route.transfer_group = plan.transferGroup ?? null;
    await this.dataSource.transaction(async (m) => {
      await m.getRepository(PaymentRouteEntity).update(route.id, {
        stripe_idempotency_key: key,
        charge_type: plan.chargeType,
        fee: plan.fee,
        transfer_group: route.transfer_group,
      });
      if (!plan.transfers.length) return;
      const children = plan.transfers.map((t, i) => {
        const childId = randomUUID();
        return {
          id: childId,
          tenant_id: t.tenant_id,
          stripe_account_id: t.stripe_account_id,
          type: PaymentRouteType.Transfer,
          status: PaymentRouteStatus.Pending,
          charge_type: ChargeType.Separate,
          amount: t.amount,
          fee: 0,
          currency: route.currency,
          parent_id: route.id,
          stripe_idempotency_key: `route:${childId}:transfer`,
          metadata: {},
          stripe_details: { split_index: i },
          transfer_group: plan.transferGroup ?? null,
        };
      });
      await m
        .getRepository(PaymentRouteEntity)
        .insert(children as QueryDeepPartialEntity<PaymentRouteEntity>[]);
    });
  }

  private async cancelTransfers(paymentId: string): Promise<void> {
    await this.dataSource
      .getRepository(PaymentRouteEntity)
      .update(
        { parent_id: paymentId, type: PaymentRouteType.Transfer, stripe_object_id: IsNull() },
        { status: PaymentRouteStatus.Canceled },
      );
  }

  /** Appends one attempt to the route (a jsonb append: concurrent writers of other columns are untouched). */
  private async addAttempt(
    route: PaymentRouteEntity,
    tried: Omit<PaymentAttempt, 'route'> & { route: Route },
  ): Promise<void> {
    const attempt: PaymentAttempt = { ...tried, route: { ...tried.route } };
    route.attempts = [...(route.attempts ?? []), attempt];
    await this.dataSource.query(`UPDATE payment_routes SET attempts = attempts || $2::jsonb WHERE id = $1`, [
      route.id,
      JSON.stringify([attempt]),
    ]);
  }

  /** The request's path: one attempt; an unknown outcome schedules the reconcile job instead of failing. */
  private async route(
    route: PaymentRouteEntity,
    job: ReconcileJob,
    made?: IntentAttempt,
  ): Promise<RouteOutcome> {
    const attempt = made ?? (await this.requestIntent(route, job));
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
    if (route?.stripe_payment_intent_id) {
      // A webhook learned the PaymentIntent first (maybe before the unknown attempt was even recorded).
      await this.resolveAttempt(route.id, {
        outcome: 'succeeded',
        payment_intent: route.stripe_payment_intent_id,
      });
      return;
    }
    if (!route || route.status !== PaymentRouteStatus.Pending) return;
    const attempt = await this.requestIntent(route, job);
    if (attempt.kind === 'unknown') throw attempt.error;
    const resolved =
      attempt.kind === 'refused'
        ? { outcome: 'failed', failure_code: attempt.failureCode, message: attempt.error.message }
        : { outcome: 'succeeded', payment_intent: attempt.pi.id };
    await this.resolveAttempt(route.id, resolved);
    if (attempt.kind === 'refused') {
      await this.fail(route, attempt);
      if (route.charge_type === ChargeType.Separate) await this.cancelTransfers(route.id);
      return;
    }
    await this.recordIntent(route, attempt.pi);
    if (route.charge_type === ChargeType.Separate && attempt.pi.status === 'succeeded')
      await this.splits.runOrSchedule({ kind: 'transfers', paymentId: route.id });
  }

  /** The routed attempt that was unknown learns its outcome (a route without attempts has none to update). */
  private async resolveAttempt(id: string, resolved: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_routes SET attempts = jsonb_set(attempts, ARRAY[(jsonb_array_length(attempts) - 1)::text],
         attempts -> -1 || $2::jsonb) WHERE id = $1 AND attempts -> -1 ->> 'outcome' = 'unknown'`,
      [id, JSON.stringify(resolved)],
    );
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
    await this.records.markFailed(route.id, attempt.failureCode, attempt.error.message, attempt.declined);
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
            data: eventData(row),
          });
        }
        return row;
      }),
    );
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
    const page = await keysetPage(qb, { column: 'created_at', limit, cursor: q.cursor });
    return {
      data: page.rows.map((r) => PaymentRouteDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }
}

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
  preparedQuery,
} from '@app/database';
import { StripeGateway, StripePaymentIntent } from '@app/stripe-gateway';
import { ACTIVE_RULE_SET_ID, ActiveRouting, RoutingService, chargeTypeOf } from '../routing/routing.service';
import { paymentContext } from '../routing/rule-context';
import type { Route } from '../routing/rule-types';
import { splitAmounts } from '../routing/split-allocation';
import { AuditLogService } from '../audit/audit-log.service';
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
import { EntitySql } from './entity-sql';
import { IdempotencyClaim } from './idempotency.service';
import { RouteOutcome, RouteRecords, eventData, responseOf } from './route-records.service';
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

/** A route as its INSERT left it: the first record of its PaymentIntent may go in one statement while it stays so. */
interface Inserted {
  /** The row's xmin after the INSERT: any later UPDATE (a webhook's) changes it. */
  rowVersion: string;
  claim: IdempotencyClaim | null;
}

/** What a payment reads of the tenant's account: refusal reasons, fee, rules' facts, capabilities. */
const PAYMENT_ACCOUNT_COLUMNS: (keyof ConnectAccountEntity)[] = [
  'id',
  'tenant_id',
  'stripe_account_id',
  'status',
  'charges_enabled',
  'disconnected_at',
  'fee_schedule',
  'country',
  'capabilities',
  'metadata',
];

const chargeOf = (pi: StripePaymentIntent): string | null =>
  typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);

/** What a create answers once Stripe holds the PaymentIntent (its client_secret is shown this once). */
const createdOutcome = (row: PaymentRouteEntity, pi: StripePaymentIntent): RouteOutcome => ({
  state: 'created',
  route: PaymentRouteDto.from(row, pi.client_secret ?? null),
});

@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('PaymentsService');
  private readonly accounts: EntitySql<ConnectAccountEntity>;
  private readonly routes: EntitySql<PaymentRouteEntity>;
  private readonly readSql: string;
  private readonly returning: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
    private readonly records: RouteRecords,
    private readonly routing: RoutingService,
    private readonly splits: SplitTransfersService,
    private readonly audit: AuditLogService,
    @Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>,
  ) {
    this.accounts = new EntitySql(dataSource, ConnectAccountEntity);
    this.routes = new EntitySql(dataSource, PaymentRouteEntity);
    // A tenant without an account still gets its row: the active rule set decides before the account is refused.
    const read = this.accounts.selectList('a', 'a_', PAYMENT_ACCOUNT_COLUMNS);
    this.readSql = `SELECT ${read}, ${ACTIVE_RULE_SET_ID} AS rule_set_id
      FROM (VALUES (1)) one LEFT JOIN ${this.accounts.table} a ON a.tenant_id = $1`;
    this.returning = `RETURNING ${this.routes.selectList('r', 'r_')}, r.xmin::text AS row_version`;
  }

  /** The hot path's statements run prepared (parsed and planned once per connection). */
  private prepared<R extends Record<string, unknown>>(text: string, values: unknown[]): Promise<R[]> {
    return preparedQuery<R>(this.dataSource, 'payment', text, values);
  }

  /** AccountInvalid with the reason when the tenant cannot take charges, before Stripe is called. */
  async chargeableAccount(tenantId: string): Promise<ConnectAccountEntity> {
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: tenantId });
    return this.chargeable(tenantId, account);
  }

  private chargeable(tenantId: string, account: ConnectAccountEntity | null): ConnectAccountEntity {
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
  async create(dto: CreatePaymentDto, claim: IdempotencyClaim | null = null): Promise<RouteOutcome> {
    const p = dto.payment_data;
    if (!isKnownCurrency(p.currency))
      throw fieldError('payment_data.currency', `currency ${p.currency} is not supported`);
    const problem = amountProblem(p.amount, p.currency);
    if (problem) throw fieldError('payment_data.amount', problem.message);
    const read = await this.readForPayment(dto.tenant_id);
    const active = await this.routing.compiledActive(read.ruleSetId);
    if (active) return this.createRouted(dto, active, read.account, claim);
    const chargeType = p.charge_type ?? ChargeType.Direct;
    if (p.on_behalf_of && chargeType !== ChargeType.Destination) {
      throw fieldError('payment_data.on_behalf_of', 'on_behalf_of applies to destination charges only');
    }
    const account = this.chargeable(dto.tenant_id, read.account);
    const fee = this.routing.feeFor(p.amount, p.currency, {}, account);

    const id = randomUUID();
    const draft = this.dataSource.getRepository(PaymentRouteEntity).create({
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
    const { route, rowVersion } = await this.insertRoute(draft, claim);

    const job: ReconcileJob = {
      routeId: id,
      input: { ...p, charge_type: chargeType },
      stripeAccount: chargeType === ChargeType.Direct ? account.stripe_account_id : undefined,
      destination: chargeType === ChargeType.Destination ? account.stripe_account_id : undefined,
    };
    return this.route(route, job, undefined, { rowVersion, claim });
  }

  /**
   * The tenant's account (PAYMENT_ACCOUNT_COLUMNS, as find() with `select` gives them; null without one) and the
   * active rule set's id (null without one): one statement.
   */
  private async readForPayment(
    tenantId: string,
  ): Promise<{ account: ConnectAccountEntity | null; ruleSetId: string | null }> {
    const [raw] = await this.prepared<Record<string, unknown>>(this.readSql, [tenantId]);
    return {
      account: this.accounts.readRow(raw, 'a_'),
      ruleSetId: (raw.rule_set_id as string | null) ?? null,
    };
  }

  /**
   * Inserts the route as insert() would, returning the row as stored. With a claim, in the statement that claims the
   * Idempotency-Key and only if it does: a key another request holds inserts nothing, and the claim throws.
   */
  private async insertRoute(
    draft: PaymentRouteEntity,
    claim: IdempotencyClaim | null,
  ): Promise<{ route: PaymentRouteEntity; rowVersion: string }> {
    const values = this.routes.insertValues(draft, 1);
    const claiming = claim?.cte(values.params.length + 1) ?? null;
    const into = `INSERT INTO ${this.routes.table} AS r (${values.columns})`;
    const rows = claiming
      ? await this.prepared<Record<string, unknown>>(
          `WITH claim AS (${claiming.sql}),
            route AS (${into} SELECT ${values.placeholders} FROM claim ${this.returning})
           SELECT claim.id AS claim_id, route.* FROM claim, route`,
          [...values.params, ...claiming.params],
        )
      : await this.prepared<Record<string, unknown>>(
          `${into} VALUES (${values.placeholders}) ${this.returning}`,
          values.params,
        );
    if (claiming) claim!.claimed(rows[0]?.claim_id as string | undefined);
    return { route: this.routes.readRow(rows[0], 'r_')!, rowVersion: rows[0].row_version as string };
  }

  /**
   * A payment under the active rule set: one evaluation by one version decides the route and its alternatives,
   * recorded on the route before Stripe is called. Each route is tried in order: not eligible (capabilities) or
   * refused on the account's side → the next, under a new key (Stripe replays a cached 400 under the old one);
   * a decline or any other refusal ends it; an unknown outcome is never followed by another attempt.
   */
  private async createRouted(
    dto: CreatePaymentDto,
    active: ActiveRouting,
    account: ConnectAccountEntity | null,
    claim: IdempotencyClaim | null,
  ): Promise<RouteOutcome> {
    const p = dto.payment_data;
    if (!account || servesNothing(account)) this.chargeable(dto.tenant_id, account);
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
    const draft = repo.create({
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
    const { route } = await this.insertRoute(draft, claim);

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
        return createdOutcome(stored, attempt.pi);
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
      await m.getRepository(PaymentRouteEntity).update(
        { id: route.id, tenant_id: route.tenant_id },
        {
          stripe_idempotency_key: key,
          charge_type: plan.chargeType,
          fee: plan.fee,
          transfer_group: route.transfer_group,
        },
      );
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
    inserted?: Inserted,
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
    const first = inserted && (await this.recordFirst(route, attempt.pi, inserted));
    return first ?? createdOutcome(await this.recordIntent(route, attempt.pi), attempt.pi);
  }

  /**
   * The first record of the PaymentIntent on a route no one changed since its INSERT, as ONE statement: the route's
   * UPDATE (what recordIntent would write, version and updated_at bumped as TypeORM does), its
   * connect.payment.routed event and dispatch job, the idempotent answer and the request's audit row; returns that
   * answer. Null when the row changed meanwhile (a webhook came first): recordIntent then decides from the row as it is.
   */
  private async recordFirst(
    route: PaymentRouteEntity,
    pi: StripePaymentIntent,
    inserted: Inserted,
  ): Promise<RouteOutcome | null> {
    const row = Object.assign(new PaymentRouteEntity(), route, {
      stripe_payment_intent_id: pi.id,
      status: routeStatusOf(pi),
      stripe_status: pi.status,
      stripe_object_id: route.stripe_object_id ?? chargeOf(pi),
    });
    const outcome = createdOutcome(row, pi);
    const params: unknown[] = [
      row.id,
      inserted.rowVersion,
      row.stripe_payment_intent_id,
      row.status,
      row.stripe_status,
      row.stripe_object_id,
    ];
    const ctes = [
      `route AS (UPDATE ${this.routes.table} SET stripe_payment_intent_id = $3, status = $4, stripe_status = $5,
          stripe_object_id = $6, version = version + 1, updated_at = CURRENT_TIMESTAMP
        WHERE id = $1 AND xmin = $2::xid RETURNING id)`,
    ];
    const add = (part: { sql: string; params: unknown[] }, name?: string): void => {
      ctes.push(name ? `${name} AS (${part.sql})` : part.sql);
      params.push(...part.params);
    };
    add(
      await this.events.emitSql(
        'event',
        'route',
        { type: 'connect.payment.routed', tenant_id: row.tenant_id, data: eventData(row) },
        params.length + 1,
      ),
    );
    const claim = inserted.claim;
    if (claim)
      add(claim.answerCte(params.length + 1, responseOf(outcome), 'EXISTS (SELECT 1 FROM route)'), 'answer');
    const audit = this.audit.successRowSql(outcome.route, 'route', params.length + 1);
    if (audit) add(audit, 'audit');
    // Stripe has the PaymentIntent now: recording it must outlast a database restart (see recordIntent).
    const [{ recorded }] = await whileDatabaseUnavailable(() =>
      this.prepared<{ recorded: number }>(
        `WITH ${ctes.join(',\n')} SELECT count(*)::int AS recorded FROM route`,
        params,
      ),
    );
    if (recorded !== 1) return null;
    claim?.stored();
    audit?.confirm();
    this.count(row, 'routed');
    return outcome;
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
          .findOneOrFail({
            where: { id: route.id, tenant_id: route.tenant_id },
            lock: { mode: 'pessimistic_write' },
          });
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
        const charge = chargeOf(pi);
        if (charge && row.stripe_object_id === null) {
          row.stripe_object_id = charge;
          changes.stripe_object_id = charge;
        }
        // One UPDATE of the row locked above (TypeORM still bumps version and updated_at); save() would SELECT it
        // again first to diff it, one more round trip on the payment hot path.
        await manager
          .getRepository(PaymentRouteEntity)
          .update({ id: row.id, tenant_id: row.tenant_id }, changes);
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

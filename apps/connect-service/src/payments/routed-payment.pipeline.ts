import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource, In, IsNull } from 'typeorm';
import { ServiceException, ErrorCode, fieldError } from '@app/common';
import {
  ChargeType,
  ConnectAccountEntity,
  PaymentAttempt,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
} from '@app/database';
import { FeePolicy } from '../fees/fee-policy';
import { ActiveRouting, chargeTypeOf } from '../routing/routing.service';
import { paymentContext } from '../routing/rule-context';
import type { Route } from '../routing/rule-types';
import { splitAmounts } from '../routing/split-allocation';
import { CreatePaymentDto, PaymentDataDto } from './dto/payment.dto';
import { IdempotencyClaim } from './idempotency.service';
import { PaymentOutcomes, StripeErrorDetails, createdOutcome } from './payment-outcomes.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { RouteOutcome, RouteRecords } from './route-records.service';
import { AttemptPlan, accountSideRefusal, chargeable, ineligibility, servesNothing } from './route-plan';
import { SplitTransfersService } from './split-transfers.service';
import { ReconcileJob } from './stripe-params';
import { assertChargeAllowed } from '../accounts/charge-type-check';

/** What the plan stage decides: the route's id, the rule that chose, and each route to try as a concrete plan. */
interface Decision {
  id: string;
  rule: string | null;
  plans: AttemptPlan[];
  splitAccounts: Map<string, ConnectAccountEntity>;
}

/**
 * A payment under the active rule set, as a pipeline: (the account and rule set resolved by PaymentsService) →
 * plan (one evaluation by one version decides the route and its alternatives) → write the route with its claim,
 * recorded before Stripe is called → try each plan with Stripe → record the outcome. Not eligible (capabilities) or
 * refused on the account's side → the next plan, under a new key (Stripe replays a cached 400 under the old one);
 * a decline or any other refusal ends it; an unknown outcome is never followed by another attempt.
 */
@Injectable()
export class RoutedPaymentPipeline {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly fees: FeePolicy,
    private readonly outcomes: PaymentOutcomes,
    private readonly records: RouteRecords,
    private readonly routes: PaymentRoutesRepository,
    private readonly splits: SplitTransfersService,
  ) {}

  async run(
    dto: CreatePaymentDto,
    active: ActiveRouting,
    account: ConnectAccountEntity | null,
    claim: IdempotencyClaim | null,
  ): Promise<RouteOutcome> {
    if (!account || servesNothing(account)) chargeable(dto.tenant_id, account);
    const decision = await this.decide(dto, active, account!);
    const route = await this.writeRoute(dto, active, account!, decision, claim);
    return this.attempt(route, account!, decision);
  }

  /** Plan: the rule's route and alternatives, each made concrete; a block refuses the payment here. */
  private async decide(
    dto: CreatePaymentDto,
    active: ActiveRouting,
    account: ConnectAccountEntity,
  ): Promise<Decision> {
    const p = dto.payment_data;
    const id = randomUUID();
    const decision = active.compiled.evaluate(paymentContext(id, dto.tenant_id, p, account));
    if (decision.route.block) {
      throw new ServiceException(
        ErrorCode.PaymentBlocked,
        `The payment is blocked: ${decision.route.block.reason}`,
        {
          reason: decision.route.block.reason,
          rule_set_id: active.id,
          version: active.version,
          rule: decision.rule,
        },
      );
    }
    // A pinned charge type keeps working: it replaces the rule's, and alternatives (other kinds) are not tried.
    const routes = p.charge_type
      ? [{ ...decision.route, charge_type: p.charge_type, split: undefined }]
      : [decision.route, ...decision.alternatives.filter((r) => !r.block)];
    const splitAccounts = await this.splitAccounts(routes);
    const plans = routes.map((r) => this.plan(id, dto, account, r, splitAccounts));
    return { id, rule: decision.rule, plans, splitAccounts };
  }

  /** Write: the pending route with the rule that chose it, in the statement that claims the Idempotency-Key. */
  private async writeRoute(
    dto: CreatePaymentDto,
    active: ActiveRouting,
    account: ConnectAccountEntity,
    { id, rule, plans }: Decision,
    claim: IdempotencyClaim | null,
  ): Promise<PaymentRouteEntity> {
    const first = plans[0];
    const draft = this.outcomes.draft(id, dto, account, {
      charge_type: first.chargeType,
      fee: first.fee,
      routing_rule_set_id: active.id,
      routing_version: active.version,
      routing_rule: rule,
      attempts: [],
      transfer_group: first.transferGroup ?? null,
    });
    return (await this.outcomes.insertRoute(draft, claim)).route;
  }

  /** Call Stripe for each plan in order, and record the outcome. */
  private async attempt(
    route: PaymentRouteEntity,
    account: ConnectAccountEntity,
    { id, plans, splitAccounts }: Decision,
  ): Promise<RouteOutcome> {
    let last: { code: string; message: string; stripe?: StripeErrorDetails } | null = null;
    for (const [n, plan] of plans.entries()) {
      const notEligible = ineligibility(plan, account, splitAccounts);
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
      const attempt = await this.outcomes.requestIntent(route, job);
      if (attempt.kind === 'created') {
        await this.addAttempt(route, {
          route: plan.route,
          outcome: 'succeeded',
          failure_code: null,
          payment_intent: attempt.pi.id,
          idempotency_key: key,
        });
        const stored = await this.outcomes.recordIntent(route, attempt.pi);
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
        return this.outcomes.route(route, job, attempt);
      }
      const sideCode = accountSideRefusal(attempt.stripe, plan.chargeType, attempt.error.message);
      await this.addAttempt(route, {
        route: plan.route,
        outcome: 'failed',
        failure_code: sideCode ?? attempt.failureCode,
        payment_intent: attempt.stripe.payment_intent ?? null,
        idempotency_key: key,
        message: attempt.error.message,
      });
      if (plan.transfers.length) await this.cancelTransfers(id);
      if (!sideCode || attempt.declined) return this.outcomes.route(route, job, attempt);
      last = { code: sideCode, message: attempt.error.message, stripe: attempt.stripe };
    }
    await this.records.markFailed(
      id,
      route.tenant_id,
      last?.code ?? 'no_route',
      last?.message ?? 'no route could serve',
    );
    this.outcomes.count(route, 'failed');
    const stored = await this.dataSource.getRepository(PaymentRouteEntity).findOneByOrFail({ id });
    throw new ServiceException(
      ErrorCode.RoutingFailed,
      `No route could serve the payment: ${last?.message ?? ''}`,
      {
        payment_route_id: id,
        attempts: stored.attempts.map((a) => ({ outcome: a.outcome, failure_code: a.failure_code })),
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
    let fee = this.fees.feeFor(p.amount, p.currency, route, account);
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
    assertChargeAllowed(account, chargeType, !!(route.on_behalf_of || p.on_behalf_of));
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

  /** The split's transfer routes belong to the receiving tenants: on Citus this UPDATE asks every shard. */
  async cancelTransfers(paymentId: string): Promise<void> {
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
    await this.routes.addAttempt(route.id, route.tenant_id, attempt);
  }
}

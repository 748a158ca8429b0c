import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource, EntityManager, In } from 'typeorm';
import { Caller } from '@app/auth';
import {
  ErrorCode,
  ServiceException,
  amountProblem,
  decodeKeysetCursor,
  fieldError,
  isKnownCurrency,
  pageOf,
} from '@app/common';
import {
  ChargeType,
  ConnectAccountEntity,
  PaymentRouteEntity,
  PaymentRouteType,
  RoutingRuleSetEntity,
  RuleSetStatus,
  VOID_ROUTE_STATUSES,
} from '@app/database';
import { AuditLogService } from '../audit/audit-log.service';
import { EventsService } from '../events/events.service';
import { FeePolicy } from '../fees/fee-policy';
import {
  CreateRuleSetDto,
  ListRuleSetsQueryDto,
  ReplayDto,
  ReplayResultDto,
  RuleSetDto,
  RuleSetListDto,
  SimulateDto,
  SimulationDto,
  ValidationResultDto,
} from './dto/rule-set.dto';
import { paymentContext } from './rule-context';
import { CompiledRuleSet } from './rule-evaluator';
import { RuleSetProblem, referencedTenants, validateRuleSet } from './rule-set-validator';
import type { Route, Rule } from './rule-types';
import { RoutingRuleSetsRepository } from './routing-rule-sets.repository';
import { splitAmounts } from './split-allocation';

/** The active rule set as a payment uses it: one version, compiled. */
export interface ActiveRouting {
  id: string;
  version: number;
  compiled: CompiledRuleSet;
}

/** Platform-level events carry this tenant id: only platform-wide subscriptions (tenant_id null) receive them. */
export const PLATFORM_EVENT_TENANT = '_platform';
const ACTIVATION_LOCK = 'connect.routing.activate';
const REPLAY_PAGE = 1_000;

/** The charge type a route takes: a split is a separate charge; otherwise what the route says, else direct. */
export const chargeTypeOf = (route: Route): ChargeType =>
  route.split ? ChargeType.Separate : ((route.charge_type as ChargeType | undefined) ?? ChargeType.Direct);

/**
 * Routing rule sets of the platform: drafts, static validation, simulation and replay (never Stripe), atomic
 * activation and rollback, and the active version for payments. Compiled versions are cached in memory by
 * version number; a payment reads the active (id, version) from one indexed row, so a replica sees a new
 * activation on its next payment, never by a timer.
 */
@Injectable()
export class RoutingService {
  private readonly logger = new Logger('RoutingService');
  /** Compiled versions by rule-set id (immutable rows: a version never needs recompiling). */
  private readonly compiled = new Map<string, ActiveRouting>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsService,
    private readonly audit: AuditLogService,
    private readonly fees: FeePolicy,
    private readonly rows: RoutingRuleSetsRepository,
  ) {}

  // --- Rule sets ----------------------------------------------------------------------------------------

  async create(caller: Caller, dto: CreateRuleSetDto): Promise<RuleSetDto> {
    const repo = this.dataSource.getRepository(RoutingRuleSetEntity);
    const v = await this.rows.nextVersion();
    const row = repo.create({
      id: randomUUID(),
      name: dto.name,
      version: v,
      status: RuleSetStatus.Draft,
      rules: dto.rules,
      default_route: dto.default as Record<string, unknown>,
      previous_id: null,
      created_by: (caller.keyId ?? caller.sub).slice(0, 255),
      activated_at: null,
      retired_at: null,
    });
    await repo.insert(row as QueryDeepPartialEntity<RoutingRuleSetEntity>);
    return RuleSetDto.from(await repo.findOneByOrFail({ id: row.id }));
  }

  async list(q: ListRuleSetsQueryDto): Promise<RuleSetListDto> {
    const qb = this.dataSource.getRepository(RoutingRuleSetEntity).createQueryBuilder('r');
    if (q.status) qb.andWhere('r.status = :status', { status: q.status });
    if (q.cursor) {
      const c = decodeKeysetCursor(q.cursor);
      qb.andWhere('(r.created_at, r.id) < (CAST(:cAt AS timestamptz), CAST(:cId AS uuid))', {
        cAt: c.at,
        cId: c.id,
      });
    }
    const rows = await qb
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(q.limit + 1)
      .getMany();
    const page = pageOf(rows, q.limit);
    return {
      data: page.rows.map((r) => RuleSetDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  async get(id: string, manager: EntityManager = this.dataSource.manager): Promise<RoutingRuleSetEntity> {
    const row = await manager.getRepository(RoutingRuleSetEntity).findOneBy({ id });
    if (!row) throw new ServiceException(ErrorCode.NotFound, `No rule set ${id}`);
    return row;
  }

  async activeRuleSet(): Promise<RoutingRuleSetEntity> {
    const row = await this.dataSource
      .getRepository(RoutingRuleSetEntity)
      .findOneBy({ status: RuleSetStatus.Active });
    if (!row) throw new ServiceException(ErrorCode.NotFound, 'No rule set is active');
    return row;
  }

  async problemsOf(row: RoutingRuleSetEntity, manager = this.dataSource.manager): Promise<RuleSetProblem[]> {
    const named = referencedTenants(row.rules, row.default_route);
    const found = named.length
      ? await manager
          .getRepository(ConnectAccountEntity)
          .find({ select: { tenant_id: true }, where: { tenant_id: In(named) } })
      : [];
    return validateRuleSet(row.rules, row.default_route, new Set(found.map((a) => a.tenant_id)));
  }

  async validate(id: string): Promise<ValidationResultDto> {
    const problems = await this.problemsOf(await this.get(id));
    return { valid: problems.length === 0, problems };
  }

  // --- Evaluation without Stripe ------------------------------------------------------------------------

  private compiledOf(row: RoutingRuleSetEntity): ActiveRouting {
    let c = this.compiled.get(row.id);
    if (!c) {
      c = {
        id: row.id,
        version: row.version,
        compiled: new CompiledRuleSet({ rules: row.rules as Rule[], default: row.default_route as Route }),
      };
      this.compiled.set(row.id, c);
    }
    return c;
  }

  async simulate(id: string, dto: SimulateDto): Promise<SimulationDto> {
    const row = await this.get(id);
    const p = dto.payment;
    if (!isKnownCurrency(p.currency))
      throw fieldError('payment.currency', `currency ${p.currency} is not supported`);
    const problem = amountProblem(p.amount, p.currency);
    if (problem) throw fieldError('payment.amount', problem.message);
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: p.tenant_id });
    const routeId = p.route_id ?? randomUUID();
    const decision = this.compiledOf(row).compiled.evaluate(
      paymentContext(routeId, p.tenant_id, p, account),
      true,
    );
    const route = decision.route;
    const blocked = route.block !== undefined;
    const fee = blocked ? 0 : this.fees.feeFor(p.amount, p.currency, route, account);
    const amounts = route.split && !blocked ? splitAmounts(p.amount, fee, route.split) : null;
    return {
      rule: decision.rule,
      route,
      fee: amounts ? p.amount - amounts.reduce((a, b) => a + b, 0) : fee,
      blocked,
      block_reason: route.block?.reason ?? null,
      trace: decision.trace,
      alternatives: decision.alternatives,
      transfers: amounts ? route.split!.map((s, i) => ({ tenant_id: s.tenant_id, amount: amounts[i] })) : [],
      route_id: routeId,
    };
  }

  /**
   * Evaluates the stored payments created in [from, to) (not failed or canceled) under the rule set and compares
   * with what happened: the charge type, the fee, or a block. Tenants' accounts are read as they are now; card
   * facts are not stored, so rules on them see none. Pages through the payments by keyset; never calls Stripe.
   */
  async replay(id: string, dto: ReplayDto): Promise<ReplayResultDto> {
    const row = await this.get(id);
    const from = new Date(dto.from);
    const to = new Date(dto.to);
    if (!(from < to)) throw fieldError('to', 'to must be after from');
    const { compiled } = this.compiledOf(row);
    const accounts = new Map<string, ConnectAccountEntity | null>();
    const result: ReplayResultDto = { payments: 0, changed: 0, by_rule: {}, fee_delta_by_currency: {} };
    let cursor: { at: Date; id: string } | null = null;
    for (;;) {
      const qb = this.dataSource
        .getRepository(PaymentRouteEntity)
        .createQueryBuilder('p')
        .where('p.type = :type', { type: PaymentRouteType.Payment })
        .andWhere('p.status NOT IN (:...voided)', { voided: VOID_ROUTE_STATUSES })
        .andWhere('p.created_at >= :from AND p.created_at < :to', { from, to });
      if (cursor) qb.andWhere('(p.created_at, p.id) > (:cAt, :cId)', { cAt: cursor.at, cId: cursor.id });
      const page = await qb
        .orderBy('p.created_at', 'ASC')
        .addOrderBy('p.id', 'ASC')
        .limit(REPLAY_PAGE)
        .getMany();
      const missing = [...new Set(page.map((p) => p.tenant_id))].filter((t) => !accounts.has(t));
      if (missing.length) {
        const found = await this.dataSource
          .getRepository(ConnectAccountEntity)
          .findBy({ tenant_id: In(missing) });
        for (const t of missing) accounts.set(t, found.find((a) => a.tenant_id === t) ?? null);
      }
      for (const p of page) {
        const account = accounts.get(p.tenant_id) ?? null;
        const currency = p.currency.trim();
        const d = compiled.evaluate(
          paymentContext(p.id, p.tenant_id, { amount: p.amount, currency, metadata: p.metadata }, account),
        );
        const blocked = d.route.block !== undefined;
        let fee = blocked ? 0 : this.fees.feeFor(p.amount, currency, d.route, account);
        if (!blocked && d.route.split) {
          const parts = splitAmounts(p.amount, fee, d.route.split);
          if (parts) fee = p.amount - parts.reduce((a, b) => a + b, 0);
        }
        const changed = blocked || chargeTypeOf(d.route) !== p.charge_type || fee !== p.fee;
        const key = d.rule ?? 'default';
        const bucket = (result.by_rule[key] ??= { payments: 0, changed: 0 });
        bucket.payments += 1;
        result.payments += 1;
        if (changed) {
          bucket.changed += 1;
          result.changed += 1;
        }
        result.fee_delta_by_currency[currency] = (result.fee_delta_by_currency[currency] ?? 0) + fee - p.fee;
      }
      if (page.length < REPLAY_PAGE) break;
      const last = page[page.length - 1];
      cursor = { at: last.created_at, id: last.id };
    }
    return result;
  }

  // --- Activation ---------------------------------------------------------------------------------------

  /**
   * Makes the rule set the active one in one transaction (serialized by an advisory lock; the partial unique
   * index keeps one active whatever happens): the current one retires, the audit row and the
   * connect.routing.activated event commit with the change. An invalid rule set is refused with its problems.
   */
  async activate(id: string): Promise<RuleSetDto> {
    return this.dataSource.transaction(async (m) => {
      await this.rows.lockActivation(m, ACTIVATION_LOCK);
      const target = await this.get(id, m);
      if (target.status === RuleSetStatus.Active) return RuleSetDto.from(target);
      const problems = await this.problemsOf(target, m);
      if (problems.length) {
        throw new ServiceException(ErrorCode.ValidationFailed, 'The rule set does not validate', {
          problems,
        });
      }
      const current = await m.getRepository(RoutingRuleSetEntity).findOneBy({ status: RuleSetStatus.Active });
      return this.switchTo(m, current, target, current?.id ?? null, 'activate');
    });
  }

  /** Retires the active rule set and activates the one it replaced. */
  async rollback(): Promise<RuleSetDto> {
    return this.dataSource.transaction(async (m) => {
      await this.rows.lockActivation(m, ACTIVATION_LOCK);
      const current = await m.getRepository(RoutingRuleSetEntity).findOneBy({ status: RuleSetStatus.Active });
      if (!current) throw new ServiceException(ErrorCode.NotFound, 'No rule set is active');
      if (!current.previous_id) {
        throw new ServiceException(
          ErrorCode.Conflict,
          'The active rule set replaced none: nothing to roll back to',
          {
            rule_set_id: current.id,
          },
        );
      }
      const previous = await this.get(current.previous_id, m);
      return this.switchTo(m, current, previous, previous.previous_id, 'rollback');
    });
  }

  private async switchTo(
    m: EntityManager,
    current: RoutingRuleSetEntity | null,
    next: RoutingRuleSetEntity,
    previousId: string | null,
    how: 'activate' | 'rollback',
  ): Promise<RuleSetDto> {
    const repo = m.getRepository(RoutingRuleSetEntity);
    const now = new Date();
    if (current) await repo.update(current.id, { status: RuleSetStatus.Retired, retired_at: now });
    await repo.update(next.id, {
      status: RuleSetStatus.Active,
      activated_at: now,
      retired_at: null,
      previous_id: previousId,
    });
    const saved = await repo.findOneByOrFail({ id: next.id });
    const data = {
      rule_set_id: saved.id,
      name: saved.name,
      version: saved.version,
      previous_rule_set_id: current?.id ?? null,
      previous_version: current?.version ?? null,
      rollback: how === 'rollback',
    };
    await this.events.emit(m, { type: 'connect.routing.activated', tenant_id: PLATFORM_EVENT_TENANT, data });
    await this.audit.record(
      {
        action: how === 'rollback' ? 'routing.rollback' : 'routing.activate',
        targetType: 'routing_rule_set',
        targetId: saved.id,
        details: data,
      },
      m,
    );
    this.logger.log(`routing rule set ${saved.name} v${saved.version} active (${how})`);
    return RuleSetDto.from(saved);
  }

  // --- For payments ---------------------------------------------------------------------------------------

  /**
   * The active rule set, compiled: one indexed read of (id, version) per payment, so every replica follows an
   * activation at once; the rules themselves are read and compiled once per version.
   */
  async active(): Promise<ActiveRouting | null> {
    return this.compiledActive(await this.rows.activeId());
  }

  /** The rule set `id` compiled, as the active one read by a caller's own statement (ACTIVE_RULE_SET_ID). */
  async compiledActive(id: string | null): Promise<ActiveRouting | null> {
    if (!id) return null;
    const cached = this.compiled.get(id);
    if (cached) return cached;
    const row = await this.dataSource.getRepository(RoutingRuleSetEntity).findOneBy({ id });
    return row ? this.compiledOf(row) : null;
  }
}

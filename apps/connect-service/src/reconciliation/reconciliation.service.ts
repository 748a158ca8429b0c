import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { Caller, assertTenantAccess, isPlatform, tenantScopeOf } from '@app/auth';
import {
  ErrorCode,
  ServiceException,
  cursorTimestampSql,
  decodeKeysetCursor,
  fieldError,
  pageOf,
} from '@app/common';
import { reconciliationConfig } from '@app/config';
import {
  ConnectAccountEntity,
  DriftItemStatus,
  ReconciliationItemEntity,
  ReconciliationRunEntity,
  ReconciliationRunStatus,
} from '@app/database';
import { JobQueue } from '../queue/job-queue.service';
import {
  CreateReconciliationRunDto,
  ListReconciliationItemsQueryDto,
  ListReconciliationRunsQueryDto,
  ReconciliationItemDto,
  ReconciliationItemListDto,
  ReconciliationRunDto,
  ReconciliationRunListDto,
} from './dto/reconciliation.dto';
import { RECONCILIATION_TENANT_QUEUE, TenantJobData } from './reconciliation-queues';

/** The longest window one run may cover: Stripe lists beyond it are better split into several runs. */
const MAX_WINDOW_DAYS = 92;

export interface StartRun {
  from: Date;
  to: Date;
  tenantId: string | null;
  dryRun: boolean;
  graceSeconds: number;
  trigger: 'manual' | 'scheduled';
  requestedBy: string | null;
}

/** Runs, their items and manual resolution; the per-tenant work is ReconciliationWorker's. */
@Injectable()
export class ReconciliationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async create(caller: Caller, dto: CreateReconciliationRunDto): Promise<ReconciliationRunDto> {
    const tenantId = dto.tenant_id ?? (isPlatform(caller) ? null : caller.tenantId);
    if (tenantId === null && !isPlatform(caller))
      throw new ServiceException(ErrorCode.Forbidden, 'Only the platform may reconcile every tenant');
    if (tenantId !== null && !isPlatform(caller) && caller.tenantId !== tenantId)
      throw new ServiceException(ErrorCode.Forbidden, 'A tenant may reconcile its own tenant only');
    const from = new Date(dto.from);
    const to = new Date(dto.to);
    if (!(from < to)) throw fieldError('to', 'to must be after from');
    if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 86_400_000)
      throw fieldError('to', `a run covers at most ${MAX_WINDOW_DAYS} days`);
    if (tenantId !== null) {
      const account = await this.dataSource
        .getRepository(ConnectAccountEntity)
        .findOneBy({ tenant_id: tenantId });
      if (!account)
        throw new ServiceException(ErrorCode.NotFound, `Tenant ${tenantId} has no connected account`);
    }
    const run = await this.start({
      from,
      to,
      tenantId,
      dryRun: dto.dry_run ?? false,
      graceSeconds: dto.grace_seconds ?? this.cfg.graceSeconds,
      trigger: 'manual',
      requestedBy: caller.sub,
    });
    return ReconciliationRunDto.from(run);
  }

  /** The run, one job row per tenant and their pg-boss jobs, in one transaction. */
  async start(s: StartRun): Promise<ReconciliationRunEntity> {
    const run = await this.dataSource.transaction(async (manager) => {
      const runs = manager.getRepository(ReconciliationRunEntity);
      const saved = await runs.save(
        runs.create({
          tenant_id: s.tenantId,
          window_from: s.from,
          window_to: s.to,
          dry_run: s.dryRun,
          grace_seconds: s.graceSeconds,
          trigger: s.trigger,
          requested_by: s.requestedBy,
          totals: {},
        }),
      );
      const jobs = (await manager.query(
        `INSERT INTO reconciliation_jobs (run_id, tenant_id, stripe_account_id)
         SELECT $1, a.tenant_id, a.stripe_account_id FROM connect_accounts a
          WHERE a.stripe_account_id IS NOT NULL AND ($2::varchar IS NULL OR a.tenant_id = $2)
         RETURNING id`,
        [saved.id, s.tenantId],
      )) as { id: string }[];
      for (const job of jobs)
        await this.queue.send<TenantJobData>(RECONCILIATION_TENANT_QUEUE, { jobId: job.id }, { manager });
      if (!jobs.length) await this.complete(manager, saved.id, null);
      return saved;
    });
    this.queue.notify(RECONCILIATION_TENANT_QUEUE);
    return this.dataSource.getRepository(ReconciliationRunEntity).findOneByOrFail({ id: run.id });
  }

  /** Totals of the items the run saw, its heals and Stripe calls; `failed` when a tenant's job failed for good. */
  async complete(manager: EntityManager, runId: string, error: string | null): Promise<void> {
    await manager.query(
      `UPDATE reconciliation_runs r SET
         status = $2,
         error = $3,
         totals = COALESCE((SELECT jsonb_object_agg(category, n) FROM (
                    SELECT category, count(*)::int AS n FROM reconciliation_items WHERE last_run_id = r.id
                     GROUP BY category) t), '{}'::jsonb),
         new_items = (SELECT count(*)::int FROM reconciliation_items WHERE run_id = r.id),
         healed = COALESCE((SELECT SUM(healed)::int FROM reconciliation_jobs WHERE run_id = r.id), 0),
         stripe_calls = COALESCE((SELECT SUM(stripe_calls)::int FROM reconciliation_jobs WHERE run_id = r.id), 0),
         started_at = COALESCE(started_at, now()),
         finished_at = now(),
         updated_at = now()
       WHERE id = $1`,
      [runId, error ? ReconciliationRunStatus.Failed : ReconciliationRunStatus.Completed, error],
    );
    await manager.query(`DELETE FROM reconciliation_pages WHERE run_id = $1`, [runId]);
  }

  async list(caller: Caller, q: ListReconciliationRunsQueryDto): Promise<ReconciliationRunListDto> {
    const tenantId = tenantScopeOf(caller) ?? q.tenant_id ?? null;
    const qb = this.dataSource.getRepository(ReconciliationRunEntity).createQueryBuilder('r');
    if (tenantId !== null) qb.andWhere('r.tenant_id = :tenantId', { tenantId });
    return this.page(qb, 'r', q, (r) => ReconciliationRunDto.from(r));
  }

  async get(caller: Caller, id: string): Promise<ReconciliationRunEntity> {
    const run = await this.dataSource.getRepository(ReconciliationRunEntity).findOneBy({ id });
    if (!run) throw new ServiceException(ErrorCode.NotFound, `No reconciliation run ${id}`);
    // A run over every tenant is the platform's.
    if (run.tenant_id === null ? !isPlatform(caller) : !this.can(caller, run.tenant_id))
      throw new ServiceException(ErrorCode.NotFound, `No reconciliation run ${id}`);
    return run;
  }

  private can(caller: Caller, tenantId: string): boolean {
    try {
      assertTenantAccess(caller, tenantId);
      return true;
    } catch {
      return false;
    }
  }

  /** What the run saw: items it first reported or saw again; a tenant caller sees its own tenant's only. */
  async items(
    caller: Caller,
    runId: string,
    q: ListReconciliationItemsQueryDto,
  ): Promise<ReconciliationItemListDto> {
    await this.get(caller, runId);
    const tenantId = tenantScopeOf(caller);
    const qb = this.dataSource
      .getRepository(ReconciliationItemEntity)
      .createQueryBuilder('i')
      .andWhere('(i.run_id = :runId OR i.last_run_id = :runId)', { runId });
    if (tenantId !== null) qb.andWhere('i.tenant_id = :tenantId', { tenantId });
    if (q.category) qb.andWhere('i.category = :category', { category: q.category });
    if (q.status) qb.andWhere('i.status = :status', { status: q.status });
    return this.page(qb, 'i', q, (i) => ReconciliationItemDto.from(i));
  }

  async resolve(caller: Caller, id: string, note: string): Promise<ReconciliationItemDto> {
    return this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(ReconciliationItemEntity);
      const item = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!item || !this.can(caller, item.tenant_id))
        throw new ServiceException(ErrorCode.NotFound, `No reconciliation item ${id}`);
      if (item.status === DriftItemStatus.Healed)
        throw new ServiceException(ErrorCode.Conflict, 'The item was healed; there is nothing to resolve', {
          item_id: id,
          status: item.status,
        });
      item.status = DriftItemStatus.Resolved;
      item.note = note;
      item.resolved_by = caller.sub;
      item.resolved_at = new Date();
      await repo.save(item);
      return ReconciliationItemDto.from(item);
    });
  }

  /** Keyset pagination on (created_at, id), newest first. */
  private async page<E extends { id: string; created_at: Date }, D>(
    qb: SelectQueryBuilder<E>,
    alias: string,
    q: { limit?: number; cursor?: string },
    map: (e: E) => D,
  ): Promise<{ data: D[]; has_more: boolean; next_cursor: string | null }> {
    const limit = q.limit ?? 20;
    if (q.cursor) {
      const c = decodeKeysetCursor(q.cursor);
      qb.andWhere(`(${alias}.created_at, ${alias}.id) < (CAST(:cAt AS timestamptz), CAST(:cId AS uuid))`, {
        cAt: c.at,
        cId: c.id,
      });
    }
    qb.addSelect(cursorTimestampSql(`${alias}.created_at`), `${alias}_cursor_at`);
    const { entities, raw } = await qb
      .orderBy(`${alias}.created_at`, 'DESC')
      .addOrderBy(`${alias}.id`, 'DESC')
      .limit(limit + 1)
      .getRawAndEntities<Record<string, string>>();
    const at = new Map(raw.map((r) => [r[`${alias}_id`], r[`${alias}_cursor_at`]]));
    const page = pageOf(entities, limit, (e) => at.get(e.id) ?? e.created_at);
    return { data: page.rows.map(map), has_more: page.has_more, next_cursor: page.next_cursor };
  }
}

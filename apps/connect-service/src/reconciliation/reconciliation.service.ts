import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Caller, assertTenantAccess, isPlatform, tenantScopeOf } from '@app/auth';
import { ErrorCode, ServiceException, fieldError } from '@app/common';
import { reconciliationConfig } from '@app/config';
import { ConnectAccountEntity, DriftItemStatus, ReconciliationRunEntity } from '@app/database';
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
import { RECONCILIATION_TENANT_QUEUE, TenantJobData } from './reconciliation.queues';
import { ReconciliationItemsRepository } from './reconciliation-items.repository';
import { ReconciliationJobsRepository } from './reconciliation-jobs.repository';
import { ReconciliationPagesRepository } from './reconciliation-pages.repository';
import { ReconciliationRunsRepository } from './reconciliation-runs.repository';

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
    private readonly runs: ReconciliationRunsRepository,
    private readonly jobs: ReconciliationJobsRepository,
    private readonly itemRows: ReconciliationItemsRepository,
    private readonly pages: ReconciliationPagesRepository,
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
      const saved = await this.runs.insert(manager, {
        tenant_id: s.tenantId,
        window_from: s.from,
        window_to: s.to,
        dry_run: s.dryRun,
        grace_seconds: s.graceSeconds,
        trigger: s.trigger,
        requested_by: s.requestedBy,
        totals: {},
      });
      const jobs = await this.jobs.createForAccounts(manager, saved.id, s.tenantId);
      for (const jobId of jobs)
        await this.queue.send<TenantJobData>(RECONCILIATION_TENANT_QUEUE, { jobId }, { manager });
      if (!jobs.length) await this.complete(manager, saved.id, null);
      return saved;
    });
    this.queue.notify(RECONCILIATION_TENANT_QUEUE);
    return (await this.runs.findById(run.id)) ?? run;
  }

  /** Totals of the items the run saw, its heals and Stripe calls; `failed` when a tenant's job failed for good. */
  async complete(manager: EntityManager, runId: string, error: string | null): Promise<void> {
    await this.runs.complete(manager, runId, error);
    await this.pages.deleteRun(manager, runId);
  }

  async list(caller: Caller, q: ListReconciliationRunsQueryDto): Promise<ReconciliationRunListDto> {
    const tenantId = tenantScopeOf(caller) ?? q.tenant_id ?? null;
    const page = await this.runs.page(tenantId, q);
    return {
      data: page.rows.map((r) => ReconciliationRunDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  async get(caller: Caller, id: string): Promise<ReconciliationRunEntity> {
    const run = await this.runs.findById(id);
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
    const page = await this.itemRows.pageOfRun(
      runId,
      { tenantId, category: q.category, status: q.status },
      q,
    );
    return {
      data: page.rows.map((i) => ReconciliationItemDto.from(i)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  async resolve(caller: Caller, id: string, note: string): Promise<ReconciliationItemDto> {
    return this.dataSource.transaction(async (manager) => {
      const item = await this.itemRows.findForUpdate(manager, id);
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
      await this.itemRows.save(manager, item);
      return ReconciliationItemDto.from(item);
    });
  }
}

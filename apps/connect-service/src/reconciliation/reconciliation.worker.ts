import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ErrorCode, ServiceException } from '@app/common';
import { reconciliationConfig } from '@app/config';
import { DriftItemStatus, ReconciliationRunEntity, ReconciliationRunStatus } from '@app/database';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { driftStatus, itemIdentity } from './drift-rules';
import { JobContext, ReconciliationEngine, StepResult } from './reconciliation.engine';
import {
  RECONCILIATION_QUEUES,
  RECONCILIATION_SCHEDULE_QUEUE,
  RECONCILIATION_TENANT_QUEUE,
  TENANT_JOB_RETRY_LIMIT,
  TenantJobData,
} from './reconciliation.queues';
import { ReconciliationItemsRepository } from './reconciliation-items.repository';
import { ReconciliationJobsRepository } from './reconciliation-jobs.repository';
import { ReconciliationMatchesRepository } from './reconciliation-matches.repository';
import { ReconciliationRunsRepository } from './reconciliation-runs.repository';
import { ReconciliationService } from './reconciliation.service';

/** Thrown between pages when the replica stops: the job fails now and resumes elsewhere from its cursor. */
class ShuttingDown extends Error {}

const scopeOf = (run: ReconciliationRunEntity): string => (run.dry_run ? run.id : 'live');

/**
 * Runs the per-tenant reconciliation jobs (pg-boss, any replica) page by page: each page's items, heals, links and
 * the next cursor commit together, so a job stopped anywhere resumes where it stood and a page done twice adds
 * nothing twice (items are unique on their identity).
 */
@Injectable()
export class ReconciliationWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconciliation');
  private stopping = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    private readonly engine: ReconciliationEngine,
    private readonly events: EventsService,
    private readonly runs: ReconciliationService,
    private readonly runRows: ReconciliationRunsRepository,
    private readonly jobRows: ReconciliationJobsRepository,
    private readonly items: ReconciliationItemsRepository,
    private readonly matches: ReconciliationMatchesRepository,
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define(RECONCILIATION_QUEUES.tenant);
    await this.queue.define(RECONCILIATION_QUEUES.schedule);
    await this.queue.schedule(RECONCILIATION_SCHEDULE_QUEUE, this.cfg.cron);
    await this.queue.work(RECONCILIATION_SCHEDULE_QUEUE, { batchSize: 1 }, async () => {
      const to = new Date();
      const run = await this.runs.start({
        from: new Date(to.getTime() - this.cfg.windowSeconds * 1000),
        to,
        tenantId: null,
        dryRun: false,
        graceSeconds: this.cfg.graceSeconds,
        trigger: 'scheduled',
        requestedBy: null,
      });
      this.logger.log(`scheduled reconciliation run ${run.id} queued`);
    });
    await this.queue.work<TenantJobData>(
      RECONCILIATION_TENANT_QUEUE,
      { batchSize: 1, concurrency: 2 },
      async (job) => this.process(job.data.jobId, job.retryCount),
    );
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async process(jobId: string, retryCount: number): Promise<void> {
    const job = await this.jobRows.findById(jobId);
    if (
      !job ||
      job.status === ReconciliationRunStatus.Completed ||
      job.status === ReconciliationRunStatus.Failed
    )
      return;
    const run = await this.runRows.findById(job.run_id);
    if (!run) throw new Error(`reconciliation run ${job.run_id} of job ${job.id} does not exist`);
    await this.jobRows.markRunning(job.id);
    await this.runRows.markRunning(run.id);
    const ctx: JobContext = { job, run, calls: 0 };
    let persisted = 0;
    try {
      while (ctx.job.phase !== 'done') {
        if (this.stopping) throw new ShuttingDown('the replica is stopping; the job resumes from its cursor');
        const step = await this.engine.step(ctx);
        await this.persist(ctx, step, ctx.calls - persisted);
        persisted = ctx.calls;
      }
      await this.finish(ctx, null);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.jobRows.recordError(job.id, ctx.calls - persisted, message.slice(0, 1000));
      if (err instanceof ShuttingDown) throw err;
      // Stripe refusing a read (an account we may no longer read, say) will not change by retrying.
      const permanent = err instanceof ServiceException && err.code !== ErrorCode.StripeUnavailable;
      if (!permanent && retryCount < TENANT_JOB_RETRY_LIMIT) throw err;
      this.logger.error(`reconciliation job ${job.id} (tenant ${job.tenant_id}) failed for good: ${message}`);
      await this.finish(ctx, message);
    }
  }

  /** One page's outcome in one transaction: heals (through the webhook handlers), items, links and the cursor. */
  private async persist(ctx: JobContext, step: StepResult, calls: number): Promise<void> {
    const { run, job } = ctx;
    let healed = 0;
    await this.dataSource.transaction(async (manager) => {
      const now = new Date();
      for (const f of step.findings) {
        let status = driftStatus(f.newest, now, run.grace_seconds);
        let note: string | null = null;
        const replay = f.replay;
        if (
          status === DriftItemStatus.Mismatched &&
          replay &&
          !run.dry_run &&
          (await this.engine.heal(ctx, replay, manager))
        ) {
          status = DriftItemStatus.Healed;
          note = f.note ?? 'healed';
          healed += 1;
        }
        await this.items.upsert(manager, {
          runId: run.id,
          tenantId: job.tenant_id,
          scope: scopeOf(run),
          identity: itemIdentity(f.category, f.route?.id ?? null, f.objectId),
          category: f.category,
          status,
          routeId: f.route?.id ?? null,
          objectId: f.objectId,
          local: f.local,
          stripe: f.stripe,
          note,
          objectCreatedAt: f.newest,
        });
      }
      await this.matches.insert(manager, job.id, step.matches);
      await this.jobRows.advance(manager, job.id, step, calls, healed);
    });
    job.phase = step.phase;
    job.cursor = step.cursor;
    job.sub_cursor = step.subCursor;
    job.pages += 1;
    job.stripe_calls += calls;
    job.healed += healed;
  }

  /**
   * Ends the tenant's job: closes what an earlier run reported in this window and no longer differs, emits the
   * tenant's ConnectEvents (never for a dry run), and completes the run when it was the last job.
   */
  private async finish(ctx: JobContext, error: string | null): Promise<void> {
    const { run, job } = ctx;
    await this.dataSource.transaction(async (manager) => {
      // Serializes the jobs of one run finishing at once, so exactly one of them completes the run.
      await this.runRows.lock(manager, run.id);
      if (!run.dry_run && !error) {
        await this.items.resolveNoLongerDiffering(manager, {
          tenantId: job.tenant_id,
          runId: run.id,
          from: run.window_from,
          to: run.window_to,
        });
      }
      await this.jobRows.finish(manager, job.id, error);
      if (!run.dry_run && !error) await this.emitTenantEvents(manager, ctx);
      await this.completeRunIfLast(manager, run);
    });
  }

  private async emitTenantEvents(manager: EntityManager, ctx: JobContext): Promise<void> {
    const { run, job } = ctx;
    const rows = await this.items.countsOfRun(manager, run.id, job.tenant_id);
    const sum = (filter: (r: { status: string }) => boolean): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of rows.filter(filter)) out[r.category] = (out[r.category] ?? 0) + r.n;
      return out;
    };
    const stripe_calls = await this.jobRows.stripeCalls(manager, job.id);
    const base = {
      run_id: run.id,
      tenant_id: job.tenant_id,
      from: run.window_from.toISOString(),
      to: run.window_to.toISOString(),
    };
    await this.events.emit(manager, {
      type: 'connect.reconciliation.completed',
      tenant_id: job.tenant_id,
      data: { ...base, totals: sum(() => true), healed: job.healed, stripe_calls },
    });
    const mismatched = sum((r) => r.status === DriftItemStatus.Mismatched);
    if (Object.keys(mismatched).length) {
      await this.events.emit(manager, {
        type: 'connect.reconciliation.drift_detected',
        tenant_id: job.tenant_id,
        data: { ...base, counts: mismatched, expected: sum((r) => r.status === DriftItemStatus.Expected) },
      });
    }
  }

  private async completeRunIfLast(manager: EntityManager, run: ReconciliationRunEntity): Promise<void> {
    const { open, failed } = await this.jobRows.progress(manager, run.id);
    if (open > 0) return;
    await this.runs.complete(manager, run.id, failed > 0 ? `${failed} tenant job(s) failed` : null);
  }
}

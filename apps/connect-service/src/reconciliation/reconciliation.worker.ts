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
import {
  DriftItemStatus,
  ReconciliationJobEntity,
  ReconciliationRunEntity,
  ReconciliationRunStatus,
} from '@app/database';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { driftStatus, itemIdentity } from './drift-rules';
import { JobContext, ReconciliationEngine, StepResult } from './reconciliation.engine';
import {
  RECONCILIATION_SCHEDULE_QUEUE,
  RECONCILIATION_TENANT_QUEUE,
  TenantJobData,
} from './reconciliation-queues';
import { ReconciliationService } from './reconciliation.service';

/** Retries after the first attempt; each resumes from the job's stored cursor. */
const RETRY_LIMIT = 5;

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
    @Inject(reconciliationConfig.KEY) private readonly cfg: ConfigType<typeof reconciliationConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define({
      name: RECONCILIATION_TENANT_QUEUE,
      retryLimit: RETRY_LIMIT,
      retryDelaySeconds: 2,
      retryBackoff: true,
      expireInSeconds: 1800,
    });
    await this.queue.define({
      name: RECONCILIATION_SCHEDULE_QUEUE,
      retryLimit: 3,
      retryDelaySeconds: 60,
      retryBackoff: true,
    });
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
    const jobs = this.dataSource.getRepository(ReconciliationJobEntity);
    const job = await jobs.findOneBy({ id: jobId });
    if (
      !job ||
      job.status === ReconciliationRunStatus.Completed ||
      job.status === ReconciliationRunStatus.Failed
    )
      return;
    const run = await this.dataSource
      .getRepository(ReconciliationRunEntity)
      .findOneByOrFail({ id: job.run_id });
    await this.dataSource.query(
      `UPDATE reconciliation_jobs SET status = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1`,
      [job.id],
    );
    await this.dataSource.query(
      `UPDATE reconciliation_runs SET status = 'running', started_at = COALESCE(started_at, now())
        WHERE id = $1 AND status = 'queued'`,
      [run.id],
    );
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
      await this.dataSource.query(
        `UPDATE reconciliation_jobs SET stripe_calls = stripe_calls + $2, error = $3 WHERE id = $1`,
        [job.id, ctx.calls - persisted, message.slice(0, 1000)],
      );
      if (err instanceof ShuttingDown) throw err;
      // Stripe refusing a read (an account we may no longer read, say) will not change by retrying.
      const permanent = err instanceof ServiceException && err.code !== ErrorCode.StripeUnavailable;
      if (!permanent && retryCount < RETRY_LIMIT) throw err;
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
        if (status === DriftItemStatus.Mismatched && f.heal && !run.dry_run && (await f.heal(manager))) {
          status = DriftItemStatus.Healed;
          note = f.note ?? 'healed';
          healed += 1;
        }
        await this.upsertItem(manager, ctx, {
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
      if (step.matches.length) {
        await manager.query(
          `INSERT INTO reconciliation_matches (job_id, stripe_object_id, payment_route_id, kind, amount)
           SELECT $1, m.stripe_object_id, m.payment_route_id, m.kind, m.amount
             FROM jsonb_to_recordset($2::jsonb) AS m(stripe_object_id text, payment_route_id uuid, kind text, amount int)
           ON CONFLICT DO NOTHING`,
          [job.id, JSON.stringify(step.matches)],
        );
      }
      await manager.query(
        `UPDATE reconciliation_jobs SET phase = $2, cursor = $3, sub_cursor = $4, pages = pages + 1,
                stripe_calls = stripe_calls + $5, healed = healed + $6, updated_at = now()
          WHERE id = $1`,
        [job.id, step.phase, step.cursor, step.subCursor, calls, healed],
      );
    });
    job.phase = step.phase;
    job.cursor = step.cursor;
    job.sub_cursor = step.subCursor;
    job.pages += 1;
    job.stripe_calls += calls;
    job.healed += healed;
  }

  private async upsertItem(
    manager: EntityManager,
    ctx: JobContext,
    i: {
      identity: string;
      category: string;
      status: DriftItemStatus;
      routeId: string | null;
      objectId: string | null;
      local: Record<string, unknown>;
      stripe: Record<string, unknown>;
      note: string | null;
      objectCreatedAt: Date;
    },
  ): Promise<void> {
    // A person's resolution stands; anything else takes this run's view of the difference.
    await manager.query(
      `INSERT INTO reconciliation_items
         (run_id, last_run_id, tenant_id, scope, identity, category, status, payment_route_id, stripe_object_id,
          local, stripe, note, object_created_at)
       VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (scope, tenant_id, identity) DO UPDATE SET
         last_run_id = EXCLUDED.last_run_id, local = EXCLUDED.local, stripe = EXCLUDED.stripe,
         status = CASE WHEN reconciliation_items.status = 'resolved' THEN reconciliation_items.status
                       ELSE EXCLUDED.status END,
         note = CASE WHEN reconciliation_items.status = 'resolved' THEN reconciliation_items.note
                     ELSE COALESCE(EXCLUDED.note, reconciliation_items.note) END,
         updated_at = now()`,
      [
        ctx.run.id,
        ctx.job.tenant_id,
        scopeOf(ctx.run),
        i.identity,
        i.category,
        i.status,
        i.routeId,
        i.objectId,
        JSON.stringify(i.local),
        JSON.stringify(i.stripe),
        i.note,
        i.objectCreatedAt,
      ],
    );
  }

  /**
   * Ends the tenant's job: closes what an earlier run reported in this window and no longer differs, emits the
   * tenant's ConnectEvents (never for a dry run), and completes the run when it was the last job.
   */
  private async finish(ctx: JobContext, error: string | null): Promise<void> {
    const { run, job } = ctx;
    await this.dataSource.transaction(async (manager) => {
      // Serializes the jobs of one run finishing at once, so exactly one of them completes the run.
      await manager.query(`SELECT id FROM reconciliation_runs WHERE id = $1 FOR UPDATE`, [run.id]);
      if (!run.dry_run && !error) {
        await manager.query(
          `UPDATE reconciliation_items SET status = 'resolved', resolved_by = 'reconciliation', resolved_at = now(),
                  note = 'no longer differs (run ' || $2 || ')', updated_at = now()
            WHERE scope = 'live' AND tenant_id = $1 AND status IN ('expected', 'mismatched') AND last_run_id <> $2
              AND object_created_at >= $3 AND object_created_at < $4`,
          [job.tenant_id, run.id, run.window_from, run.window_to],
        );
      }
      await manager.query(
        `UPDATE reconciliation_jobs SET status = $2, error = $3, finished_at = now(), updated_at = now() WHERE id = $1`,
        [job.id, error ? ReconciliationRunStatus.Failed : ReconciliationRunStatus.Completed, error],
      );
      if (!run.dry_run && !error) await this.emitTenantEvents(manager, ctx);
      await this.completeRunIfLast(manager, run);
    });
  }

  private async emitTenantEvents(manager: EntityManager, ctx: JobContext): Promise<void> {
    const { run, job } = ctx;
    const rows = (await manager.query(
      `SELECT category, status, count(*)::int AS n FROM reconciliation_items
        WHERE last_run_id = $1 AND tenant_id = $2 GROUP BY category, status`,
      [run.id, job.tenant_id],
    )) as { category: string; status: string; n: number }[];
    const sum = (filter: (r: { status: string }) => boolean): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of rows.filter(filter)) out[r.category] = (out[r.category] ?? 0) + r.n;
      return out;
    };
    const [{ stripe_calls }] = (await manager.query(
      `SELECT stripe_calls FROM reconciliation_jobs WHERE id = $1`,
      [job.id],
    )) as { stripe_calls: number }[];
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
    const [{ open, failed }] = (await manager.query(
      `SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM reconciliation_jobs WHERE run_id = $1`,
      [run.id],
    )) as { open: number; failed: number }[];
    if (open > 0) return;
    await this.runs.complete(manager, run.id, failed > 0 ? `${failed} tenant job(s) failed` : null);
  }
}

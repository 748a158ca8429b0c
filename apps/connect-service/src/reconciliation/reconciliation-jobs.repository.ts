import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ReconciliationJobEntity, ReconciliationRunStatus, affected, one, rows, sql } from '@app/database';

/** Where a job goes next: its phase and cursors. */
export interface JobPosition {
  phase: string;
  cursor: string | null;
  subCursor: string | null;
}

/** One job per tenant and run: its phase, cursors and counters, so a stopped job resumes where it stood. */
@Injectable()
export class ReconciliationJobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string): Promise<ReconciliationJobEntity | null> {
    return this.dataSource.getRepository(ReconciliationJobEntity).findOneBy({ id });
  }

  /** One job per connected account (of one tenant, or of every tenant when `tenantId` is null). */
  async createForAccounts(manager: EntityManager, runId: string, tenantId: string | null): Promise<string[]> {
    const created = await rows<{ id: string }>(
      manager,
      sql`INSERT INTO reconciliation_jobs (run_id, tenant_id, stripe_account_id)
          SELECT ${runId}, a.tenant_id, a.stripe_account_id FROM connect_accounts a
           WHERE a.stripe_account_id IS NOT NULL AND (${tenantId}::varchar IS NULL OR a.tenant_id = ${tenantId})
          RETURNING id`,
    );
    return created.map((j) => j.id);
  }

  async markRunning(jobId: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE reconciliation_jobs SET status = 'running', started_at = COALESCE(started_at, now()) WHERE id = ${jobId}`,
    );
  }

  async recordError(jobId: string, calls: number, message: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE reconciliation_jobs SET stripe_calls = stripe_calls + ${calls}, error = ${message} WHERE id = ${jobId}`,
    );
  }

  /** A page done: the next position and the page's counters. */
  async advance(
    manager: EntityManager,
    jobId: string,
    to: JobPosition,
    calls: number,
    healed: number,
  ): Promise<void> {
    await affected(
      manager,
      sql`UPDATE reconciliation_jobs SET phase = ${to.phase}, cursor = ${to.cursor}, sub_cursor = ${to.subCursor},
                 pages = pages + 1, stripe_calls = stripe_calls + ${calls}, healed = healed + ${healed},
                 updated_at = now()
           WHERE id = ${jobId}`,
    );
  }

  async finish(manager: EntityManager, jobId: string, error: string | null): Promise<void> {
    const status = error ? ReconciliationRunStatus.Failed : ReconciliationRunStatus.Completed;
    await affected(
      manager,
      sql`UPDATE reconciliation_jobs SET status = ${status}, error = ${error}, finished_at = now(), updated_at = now()
           WHERE id = ${jobId}`,
    );
  }

  async stripeCalls(manager: EntityManager, jobId: string): Promise<number> {
    const row = await one<{ stripe_calls: number }>(
      manager,
      sql`SELECT stripe_calls FROM reconciliation_jobs WHERE id = ${jobId}`,
    );
    return row?.stripe_calls ?? 0;
  }

  /** Jobs of the run still to finish, and those that failed for good. */
  async progress(manager: EntityManager, runId: string): Promise<{ open: number; failed: number }> {
    const row = await one<{ open: number; failed: number }>(
      manager,
      sql`SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed
            FROM reconciliation_jobs WHERE run_id = ${runId}`,
    );
    return row ?? { open: 0, failed: 0 };
  }
}

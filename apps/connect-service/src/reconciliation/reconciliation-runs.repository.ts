import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { cursorTimestampSql, decodeKeysetCursor, pageOf } from '@app/common';
import { ReconciliationRunEntity, ReconciliationRunStatus, affected, rows, sql } from '@app/database';

export interface KeysetPage<E> {
  rows: E[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Keyset pagination on (created_at, id), newest first. */
export async function keysetPage<E extends { id: string; created_at: Date }>(
  qb: SelectQueryBuilder<E>,
  alias: 'r' | 'i',
  q: { limit?: number; cursor?: string },
): Promise<KeysetPage<E>> {
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
  return pageOf(entities, limit, (e) => at.get(e.id) ?? e.created_at);
}

/** Reconciliation runs: one per request or schedule, over one tenant or all of them. */
@Injectable()
export class ReconciliationRunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string): Promise<ReconciliationRunEntity | null> {
    return this.dataSource.getRepository(ReconciliationRunEntity).findOneBy({ id });
  }

  insert(manager: EntityManager, run: Partial<ReconciliationRunEntity>): Promise<ReconciliationRunEntity> {
    const runs = manager.getRepository(ReconciliationRunEntity);
    return runs.save(runs.create(run));
  }

  page(
    tenantId: string | null,
    q: { limit?: number; cursor?: string },
  ): Promise<KeysetPage<ReconciliationRunEntity>> {
    const qb = this.dataSource.getRepository(ReconciliationRunEntity).createQueryBuilder('r');
    if (tenantId !== null) qb.andWhere('r.tenant_id = :tenantId', { tenantId });
    return keysetPage(qb, 'r', q);
  }

  async markRunning(runId: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE reconciliation_runs SET status = 'running', started_at = COALESCE(started_at, now())
           WHERE id = ${runId} AND status = 'queued'`,
    );
  }

  /** Serializes the jobs of one run finishing at once, so exactly one of them completes the run. */
  async lock(manager: EntityManager, runId: string): Promise<void> {
    await rows(manager, sql`SELECT id FROM reconciliation_runs WHERE id = ${runId} FOR UPDATE`);
  }

  /** Totals of the items the run saw, its heals and Stripe calls. */
  async complete(manager: EntityManager, runId: string, error: string | null): Promise<void> {
    const status = error ? ReconciliationRunStatus.Failed : ReconciliationRunStatus.Completed;
    await affected(
      manager,
      sql`UPDATE reconciliation_runs r SET
            status = ${status},
            error = ${error},
            totals = COALESCE((SELECT jsonb_object_agg(category, n) FROM (
                       SELECT category, count(*)::int AS n FROM reconciliation_items WHERE last_run_id = r.id
                        GROUP BY category) t), '{}'::jsonb),
            new_items = (SELECT count(*)::int FROM reconciliation_items WHERE run_id = r.id),
            healed = COALESCE((SELECT SUM(healed)::int FROM reconciliation_jobs WHERE run_id = r.id), 0),
            stripe_calls = COALESCE((SELECT SUM(stripe_calls)::int FROM reconciliation_jobs WHERE run_id = r.id), 0),
            started_at = COALESCE(started_at, now()),
            finished_at = now(),
            updated_at = now()
          WHERE id = ${runId}`,
    );
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DriftItemStatus, ReconciliationItemEntity, affected, rows, sql } from '@app/database';
import { KeysetPage, keysetPage } from './reconciliation-runs.repository';

/** One difference as stored: unique on (scope, tenant, identity), so the same difference is one item in every run. */
export interface ItemWrite {
  runId: string;
  tenantId: string;
  /** `live`, or the run id of a dry run (its items never touch the live ones). */
  scope: string;
  identity: string;
  category: string;
  status: DriftItemStatus;
  routeId: string | null;
  objectId: string | null;
  local: Record<string, unknown>;
  stripe: Record<string, unknown>;
  note: string | null;
  objectCreatedAt: Date;
}

export interface ItemCount {
  category: string;
  status: string;
  n: number;
}

/** Drift items: what runs found, healed, or a person resolved. */
@Injectable()
export class ReconciliationItemsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A person's resolution stands; anything else takes this run's view of the difference. */
  async upsert(manager: EntityManager, i: ItemWrite): Promise<void> {
    await affected(
      manager,
      sql`INSERT INTO reconciliation_items
            (run_id, last_run_id, tenant_id, scope, identity, category, status, payment_route_id, stripe_object_id,
             local, stripe, note, object_created_at)
          VALUES (${i.runId}, ${i.runId}, ${i.tenantId}, ${i.scope}, ${i.identity}, ${i.category}, ${i.status},
                  ${i.routeId}, ${i.objectId}, ${JSON.stringify(i.local)}, ${JSON.stringify(i.stripe)}, ${i.note},
                  ${i.objectCreatedAt})
          ON CONFLICT (scope, tenant_id, identity) DO UPDATE SET
            last_run_id = EXCLUDED.last_run_id, local = EXCLUDED.local, stripe = EXCLUDED.stripe,
            status = CASE WHEN reconciliation_items.status = 'resolved' THEN reconciliation_items.status
                          ELSE EXCLUDED.status END,
            note = CASE WHEN reconciliation_items.status = 'resolved' THEN reconciliation_items.note
                        ELSE COALESCE(EXCLUDED.note, reconciliation_items.note) END,
            updated_at = now()`,
    );
  }

  /** Closes the tenant's live items of the window an earlier run reported and this run no longer saw. */
  async resolveNoLongerDiffering(
    manager: EntityManager,
    q: { tenantId: string; runId: string; from: Date; to: Date },
  ): Promise<void> {
    await affected(
      manager,
      sql`UPDATE reconciliation_items SET status = 'resolved', resolved_by = 'reconciliation', resolved_at = now(),
                 note = 'no longer differs (run ' || ${q.runId} || ')', updated_at = now()
           WHERE scope = 'live' AND tenant_id = ${q.tenantId} AND status IN ('expected', 'mismatched')
             AND last_run_id <> ${q.runId} AND object_created_at >= ${q.from} AND object_created_at < ${q.to}`,
    );
  }

  /** What the run saw of one tenant, by category and status. */
  countsOfRun(manager: EntityManager, runId: string, tenantId: string): Promise<ItemCount[]> {
    return rows(
      manager,
      sql`SELECT category, status, count(*)::int AS n FROM reconciliation_items
           WHERE last_run_id = ${runId} AND tenant_id = ${tenantId} GROUP BY category, status`,
    );
  }

  /** Open live items (expected or mismatched) by category and status, every tenant. */
  openCounts(): Promise<ItemCount[]> {
    return rows(
      this.dataSource,
      sql`SELECT category, status, count(*)::int AS n FROM reconciliation_items
           WHERE scope = 'live' AND status IN ('expected', 'mismatched') GROUP BY category, status`,
    );
  }

  /** Items a run first reported or saw again; optionally one tenant's, category's or status's. */
  pageOfRun(
    runId: string,
    filter: { tenantId: string | null; category?: string; status?: string },
    q: { limit?: number; cursor?: string },
  ): Promise<KeysetPage<ReconciliationItemEntity>> {
    const qb = this.dataSource
      .getRepository(ReconciliationItemEntity)
      .createQueryBuilder('i')
      .andWhere('(i.run_id = :runId OR i.last_run_id = :runId)', { runId });
    if (filter.tenantId !== null) qb.andWhere('i.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.category) qb.andWhere('i.category = :category', { category: filter.category });
    if (filter.status) qb.andWhere('i.status = :status', { status: filter.status });
    return keysetPage(qb, 'i', q);
  }

  /** The item, locked for the transaction (a manual resolution). */
  findForUpdate(manager: EntityManager, id: string): Promise<ReconciliationItemEntity | null> {
    return manager
      .getRepository(ReconciliationItemEntity)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async save(manager: EntityManager, item: ReconciliationItemEntity): Promise<void> {
    await manager.getRepository(ReconciliationItemEntity).save(item);
  }
}

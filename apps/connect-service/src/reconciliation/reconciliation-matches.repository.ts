import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { affected, rows, sql } from '@app/database';
import type { Match } from './drift/drift.types';

/** Stripe objects a job tied to our routes, and the route reads that depend on them. */
@Injectable()
export class ReconciliationMatchesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, jobId: string, matches: Match[]): Promise<void> {
    if (!matches.length) return;
    await affected(
      manager,
      sql`INSERT INTO reconciliation_matches (job_id, stripe_object_id, payment_route_id, kind, amount)
          SELECT ${jobId}, m.stripe_object_id, m.payment_route_id, m.kind, m.amount
            FROM jsonb_to_recordset(${JSON.stringify(matches)}::jsonb)
                 AS m(stripe_object_id text, payment_route_id uuid, kind text, amount int)
          ON CONFLICT DO NOTHING`,
    );
  }

  /** The route id a Stripe id was linked to by this job, or that holds it as its own object. */
  linkedRouteIds(
    jobId: string,
    tenantId: string,
    objectIds: string[],
  ): Promise<{ object_id: string; route_id: string }[]> {
    return rows(
      this.dataSource,
      sql`SELECT m.stripe_object_id AS object_id, m.payment_route_id AS route_id FROM reconciliation_matches m
           WHERE m.job_id = ${jobId} AND m.kind = 'linked' AND m.stripe_object_id = ANY(${objectIds})
          UNION ALL
          SELECT r.stripe_object_id, r.id FROM payment_routes r
           WHERE r.tenant_id = ${tenantId} AND r.stripe_object_id = ANY(${objectIds})`,
    );
  }

  /** Our refunded total per payment: refund routes Stripe has (not failed), plus refunds Stripe showed we lack a route for. */
  async refundedTotals(jobId: string, routeIds: string[]): Promise<Map<string, number>> {
    if (!routeIds.length) return new Map();
    const found = await rows<{ id: string; refunded: string }>(
      this.dataSource,
      sql`SELECT p.id, COALESCE((SELECT SUM(r.amount) FROM payment_routes r
                   WHERE r.parent_id = p.id AND r.type = 'refund' AND r.stripe_object_id IS NOT NULL
                     AND r.status NOT IN ('failed', 'canceled')), 0)
              + COALESCE((SELECT SUM(m.amount) FROM reconciliation_matches m
                   WHERE m.job_id = ${jobId} AND m.kind = 'unrecorded_refund' AND m.payment_route_id = p.id
                     AND NOT EXISTS (SELECT 1 FROM payment_routes x WHERE x.stripe_object_id = m.stripe_object_id)), 0)
              AS refunded
           FROM payment_routes p WHERE p.id = ANY(${routeIds}::uuid[])`,
    );
    return new Map(found.map((r) => [r.id, Number(r.refunded)]));
  }

  /** A page (by id, after `after`) of the tenant's routes created in the window that no list of this job showed. */
  async unseenRouteIds(
    q: { jobId: string; tenantId: string; from: Date; to: Date; after: string | null },
    limit: number,
  ): Promise<string[]> {
    const found = await rows<{ id: string }>(
      this.dataSource,
      sql`SELECT r.id FROM payment_routes r
           WHERE r.tenant_id = ${q.tenantId} AND r.created_at >= ${q.from} AND r.created_at < ${q.to}
             AND (${q.after}::uuid IS NULL OR r.id > ${q.after}::uuid)
             AND NOT EXISTS (SELECT 1 FROM reconciliation_matches m
                              WHERE m.job_id = ${q.jobId} AND m.kind = 'linked' AND m.payment_route_id = r.id)
           ORDER BY r.id LIMIT ${limit}`,
    );
    return found.map((r) => r.id);
  }
}

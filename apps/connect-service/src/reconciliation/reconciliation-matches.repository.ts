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

  /**
   * The route id a Stripe id was linked to by this job, or that holds it as its own object. The job's matches stay
   * on the coordinator and the routes are sharded on Citus: two statements, never one joining both.
   */
  async linkedRouteIds(
    jobId: string,
    tenantId: string,
    objectIds: string[],
  ): Promise<{ object_id: string; route_id: string }[]> {
    const linked = await rows<{ object_id: string; route_id: string }>(
      this.dataSource,
      sql`SELECT m.stripe_object_id AS object_id, m.payment_route_id AS route_id FROM reconciliation_matches m
           WHERE m.job_id = ${jobId} AND m.kind = 'linked' AND m.stripe_object_id = ANY(${objectIds})`,
    );
    const own = await rows<{ object_id: string; route_id: string }>(
      this.dataSource,
      sql`SELECT r.stripe_object_id AS object_id, r.id AS route_id FROM payment_routes r
           WHERE r.tenant_id = ${tenantId} AND r.stripe_object_id = ANY(${objectIds})`,
    );
    return [...linked, ...own];
  }

  /**
   * Our refunded total per payment of the tenant: refund routes Stripe has (not failed), plus refunds Stripe showed
   * we lack a route for (kept in this job's matches, on the coordinator: read apart from the sharded routes).
   */
  async refundedTotals(jobId: string, tenantId: string, routeIds: string[]): Promise<Map<string, number>> {
    if (!routeIds.length) return new Map();
    const recorded = await rows<{ id: string; refunded: string }>(
      this.dataSource,
      sql`SELECT r.parent_id AS id, SUM(r.amount)::bigint AS refunded FROM payment_routes r
           WHERE r.tenant_id = ${tenantId} AND r.parent_id = ANY(${routeIds}::uuid[]) AND r.type = 'refund'
             AND r.stripe_object_id IS NOT NULL AND r.status NOT IN ('failed', 'canceled')
           GROUP BY r.parent_id`,
    );
    const unrecorded = await rows<{ id: string; object_id: string; amount: number }>(
      this.dataSource,
      sql`SELECT m.payment_route_id AS id, m.stripe_object_id AS object_id, m.amount FROM reconciliation_matches m
           WHERE m.job_id = ${jobId} AND m.kind = 'unrecorded_refund' AND m.payment_route_id = ANY(${routeIds}::uuid[])`,
    );
    const routed = unrecorded.length
      ? await rows<{ stripe_object_id: string }>(
          this.dataSource,
          sql`SELECT stripe_object_id FROM payment_routes
               WHERE tenant_id = ${tenantId} AND stripe_object_id = ANY(${unrecorded.map((u) => u.object_id)})`,
        )
      : [];
    const hasRoute = new Set(routed.map((r) => r.stripe_object_id));
    const totals = new Map(routeIds.map((id) => [id, 0]));
    for (const r of recorded) totals.set(r.id, Number(r.refunded));
    for (const u of unrecorded)
      if (!hasRoute.has(u.object_id)) totals.set(u.id, (totals.get(u.id) ?? 0) + Number(u.amount));
    return totals;
  }

  /**
   * A page (by id, after `after`) of the tenant's routes created in the window that no list of this job showed:
   * pages of the routes, less those this job's matches link (read apart: routes sharded, matches on the
   * coordinator), until `limit` are found or the routes end.
   */
  async unseenRouteIds(
    q: { jobId: string; tenantId: string; from: Date; to: Date; after: string | null },
    limit: number,
  ): Promise<string[]> {
    const out: string[] = [];
    let after = q.after;
    for (;;) {
      const page = await rows<{ id: string }>(
        this.dataSource,
        sql`SELECT r.id FROM payment_routes r
             WHERE r.tenant_id = ${q.tenantId} AND r.created_at >= ${q.from} AND r.created_at < ${q.to}
               AND (${after}::uuid IS NULL OR r.id > ${after}::uuid)
             ORDER BY r.id LIMIT ${limit}`,
      );
      if (!page.length) return out;
      const ids = page.map((r) => r.id);
      const linked = await rows<{ id: string }>(
        this.dataSource,
        sql`SELECT m.payment_route_id AS id FROM reconciliation_matches m
             WHERE m.job_id = ${q.jobId} AND m.kind = 'linked' AND m.payment_route_id = ANY(${ids}::uuid[])`,
      );
      const seen = new Set(linked.map((m) => m.id));
      for (const id of ids) if (!seen.has(id) && out.length < limit) out.push(id);
      if (out.length >= limit || page.length < limit) return out;
      after = ids[ids.length - 1];
    }
  }
}

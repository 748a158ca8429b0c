import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  EventDeliveryStatus,
  EventSubscriptionStatus,
  affected,
  empty,
  one,
  rows,
  sql,
  trusted,
} from '@app/database';
import { JobQueue } from '../queue/job-queue.service';
import { DELIVER_QUEUE } from './events.queues';
import type { DeliveriesReading } from './events-metrics';

/** A delivery with its subscription and event, as the delivery worker reads it. */
export interface DeliveryRow {
  id: string;
  status: EventDeliveryStatus;
  round: number;
  subscription_id: string;
  url: string;
  secret_enc: string;
  sub_status: EventSubscriptionStatus;
  deleted_at: Date | null;
  event_id: string;
  type: string;
  tenant_id: string;
  data: Record<string, unknown>;
  created_at: Date;
}

/** One attempt's result as the delivery log keeps it. */
export interface AttemptRecord {
  attemptNo: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  body: string | null;
}

/** event_deliveries and event_delivery_attempts: the fan-out's rows, their rounds and their attempt log. */
@Injectable()
export class EventDeliveriesRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
  ) {}

  /**
   * Delivery rows (one per event and matching subscription, the unique pair makes a re-run harmless) and their
   * jobs, each carrying its event's trace carrier; answers the types of the events found.
   */
  async fanOut(events: Array<{ eventId: string; carrier: string }>): Promise<Array<{ type: string }>> {
    const job = this.queue.insertJobsFromSql(
      DELIVER_QUEUE,
      'delivery',
      "jsonb_build_object('deliveryId', delivery.id, 'tenantId', delivery.tenant_id, 'round', 1, 'step', 0) || delivery.carrier",
    );
    return rows<{ type: string }>(
      this.dataSource,
      sql`WITH input AS (
        SELECT DISTINCT ON (event_id) event_id, carrier
          FROM unnest(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.carrier)}::jsonb[])
            AS i(event_id, carrier)),
      event AS (
        SELECT e.id, e.type, e.tenant_id, input.carrier FROM connect_events e JOIN input ON input.event_id = e.id),
      created AS (
        INSERT INTO event_deliveries (event_id, subscription_id, tenant_id, next_attempt_at)
        SELECT event.id, s.id, event.tenant_id, now() FROM event JOIN event_subscriptions s
            ON s.status = 'active' AND s.deleted_at IS NULL
           AND (s.tenant_id IS NULL OR s.tenant_id = event.tenant_id)
           AND s.event_types && ARRAY[event.type::text, '*']
        ON CONFLICT (event_id, subscription_id, tenant_id) DO NOTHING
        RETURNING id, event_id, tenant_id),
      delivery AS (
        SELECT created.id, created.tenant_id, event.carrier FROM created JOIN event ON event.id = created.event_id),
      job AS (${trusted(job)})
      SELECT type FROM event`,
    );
  }

  /** A new round for (event, subscription): pending again, its round counter bumped so older jobs stop. */
  async startRound(
    manager: EntityManager,
    event: { id: string; tenant_id: string },
    subscriptionId: string,
  ): Promise<{ id: string; round: number }> {
    const row = await one<{ id: string; round: number }>(
      manager,
      sql`INSERT INTO event_deliveries (event_id, subscription_id, tenant_id, next_attempt_at)
          VALUES (${event.id}, ${subscriptionId}, ${event.tenant_id}, now())
          ON CONFLICT (event_id, subscription_id, tenant_id) DO UPDATE
            SET status = 'pending', round = event_deliveries.round + 1, next_attempt_at = now(), updated_at = now()
          RETURNING id, round`,
    );
    return row!;
  }

  /** With the tenant (the job carries it) the read runs on the tenant's shard on Citus. */
  async read(id: string, tenantId?: string): Promise<DeliveryRow | undefined> {
    return one<DeliveryRow>(
      this.dataSource,
      sql`SELECT d.id, d.status, d.round, d.subscription_id, s.url, s.secret_enc, s.status AS sub_status,
                 s.deleted_at, e.id AS event_id, e.type, e.tenant_id, e.data, e.created_at
            FROM event_deliveries d
            JOIN event_subscriptions s ON s.id = d.subscription_id
            JOIN connect_events e ON e.id = d.event_id AND e.tenant_id = d.tenant_id
           WHERE d.id = ${id} ${tenantId === undefined ? empty : sql`AND d.tenant_id = ${tenantId}`}`,
    );
  }

  /** Ends a pending delivery of this round without an attempt (its subscription is gone or disabled). */
  async abandon(id: string, tenantId: string, round: number, reason: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE event_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = ${reason},
                 updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId} AND round = ${round} AND status = 'pending'`,
    );
  }

  async lock(
    manager: EntityManager,
    id: string,
    tenantId: string,
  ): Promise<{ attempts: number; round: number; status: EventDeliveryStatus } | undefined> {
    return one(
      manager,
      sql`SELECT attempts, round, status FROM event_deliveries
           WHERE id = ${id} AND tenant_id = ${tenantId} FOR UPDATE`,
    );
  }

  async logAttempt(manager: EntityManager, id: string, tenantId: string, a: AttemptRecord): Promise<void> {
    await affected(
      manager,
      sql`INSERT INTO event_delivery_attempts
            (tenant_id, delivery_id, attempt_no, status_code, duration_ms, error, response_body)
          VALUES (${tenantId}, ${id}, ${a.attemptNo}, ${a.statusCode}, ${a.durationMs}, ${a.error}, ${a.body})`,
    );
  }

  /** Only the attempt count: a newer round owns the delivery's state. */
  async countAttempt(manager: EntityManager, id: string, tenantId: string, attemptNo: number): Promise<void> {
    await affected(
      manager,
      sql`UPDATE event_deliveries SET attempts = ${attemptNo}, updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }

  async succeeded(manager: EntityManager, id: string, tenantId: string, a: AttemptRecord): Promise<void> {
    await affected(
      manager,
      sql`UPDATE event_deliveries SET status = 'succeeded', attempts = ${a.attemptNo},
                 last_status_code = ${a.statusCode}, last_error = NULL, next_attempt_at = NULL,
                 delivered_at = now(), updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }

  async retryIn(
    manager: EntityManager,
    id: string,
    tenantId: string,
    a: AttemptRecord,
    delaySeconds: number,
  ): Promise<void> {
    await affected(
      manager,
      sql`UPDATE event_deliveries SET attempts = ${a.attemptNo}, last_status_code = ${a.statusCode},
                 last_error = ${a.error}, next_attempt_at = now() + make_interval(secs => ${delaySeconds}),
                 updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }

  async failed(manager: EntityManager, id: string, tenantId: string, a: AttemptRecord): Promise<void> {
    await affected(
      manager,
      sql`UPDATE event_deliveries SET status = 'failed', attempts = ${a.attemptNo},
                 last_status_code = ${a.statusCode}, last_error = ${a.error}, next_attempt_at = NULL,
                 updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }

  /** One grouped COUNT over the pending deliveries (a partial index holds exactly those). */
  async pendingReading(): Promise<DeliveriesReading> {
    const found = await rows<{ retrying: boolean; n: number; oldest: number }>(
      this.dataSource,
      sql`SELECT (attempts > 0) AS retrying, count(*)::int AS n,
                 COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
            FROM event_deliveries WHERE status = 'pending' GROUP BY 1`,
    );
    return {
      firstAttempt: found.find((r) => !r.retrying)?.n ?? 0,
      retrying: found.find((r) => r.retrying)?.n ?? 0,
      oldestSeconds: Math.max(0, ...found.map((r) => r.oldest)),
    };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  SETTLED_WEBHOOK_STATUSES,
  Sql,
  StripeWebhookEventSource,
  StripeWebhookEventStatus,
  WAITING_WEBHOOK_STATUSES,
  empty,
  join,
  one,
  preparedRows,
  preparedRowsOn,
  rows,
  sql,
  trusted,
} from '@app/database';
import type { StripeEvent } from '@app/stripe-gateway';
import { JobQueue } from '../queue/job-queue.service';

export const WEBHOOK_PROCESS_QUEUE = 'stripe-webhook.process';

/** An event as the intake stores it: the payload as the text Stripe signed (PostgreSQL parses it). */
export interface InboxInsert {
  event: StripeEvent;
  payloadJson: string;
  status: StripeWebhookEventStatus;
  outcome: string | null;
  source: StripeWebhookEventSource;
}

/** An inbox row as the batch read it, without a lock: only what processing never changes is trusted from it. */
/** What processing reads of an inbox row under its lock. */
export interface LockedInboxRow {
  status: StripeWebhookEventStatus;
  processed_at: Date | null;
  received_at: Date;
  tenant_id: string | null;
}

export interface InboxSnapshot {
  id: string;
  stripe_event_id: string;
  type: string;
  stripe_account_id: string | null;
  tenant_id: string | null;
  livemode: boolean;
  status: StripeWebhookEventStatus;
  event_created: string;
  received_at: Date;
  /** The database's clock when the batch was read (the same on every row). */
  read_at: Date;
  /** Null when not read: no handler, and the account column names the tenant. */
  payload: StripeEvent | null;
}

/** The final state of an inbox row processing settles; `stamp` sets processed_at. */
export interface InboxSettlement {
  id: string;
  status: StripeWebhookEventStatus;
  outcome: string;
  tenantId: string | null;
  stamp: boolean;
}

const list = (statuses: readonly StripeWebhookEventStatus[]): Sql =>
  sql`(${join(statuses.map((s) => sql`${s}::stripe_webhook_event_status`))})`;

/** stripe_webhook_events: the inbox every Stripe event takes in, and its processing states. */
@Injectable()
export class WebhookInboxRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
  ) {}

  /*
   * One statement: the unique key decides "new or duplicate" atomically, so concurrent deliveries of one event
   * (Stripe retries, two replicas) end in one row and one job without locks.
   */
  private insertSql(r: InboxInsert): Sql {
    const e = r.event;
    return sql`INSERT INTO stripe_webhook_events
      (stripe_event_id, type, stripe_account_id, livemode, api_version, event_created, payload, status, outcome, source)
      VALUES (${e.id}, ${e.type}, ${e.account ?? null}, ${e.livemode}, ${e.api_version ?? null}, ${e.created},
        ${r.payloadJson}::jsonb, ${r.status}, ${r.outcome}, ${r.source})
      ON CONFLICT (stripe_event_id) DO NOTHING
      RETURNING id`;
  }

  /** Stores the event alone (nothing to process); the new row's id, or null for a duplicate. */
  async insert(r: InboxInsert): Promise<string | null> {
    return (await one<{ id: string }>(this.dataSource, this.insertSql(r)))?.id ?? null;
  }

  /**
   * Stores the event and its processing job as one prepared statement (the intake's hot path); the job's data
   * carries the intake's trace context (`carrier`, '{}' when tracing is off). Null for a duplicate: neither.
   */
  async insertWithJob(r: InboxInsert, carrier: string): Promise<string | null> {
    const job = this.jobs.insertJobsFromSql(
      WEBHOOK_PROCESS_QUEUE,
      'inbox',
      "jsonb_build_object('inboxId', inbox.id) || inbox.carrier",
    );
    const found = await preparedRows<{ id: string }>(
      this.dataSource,
      'webhook-accept',
      sql`WITH inserted AS (${this.insertSql(r)}),
        inbox AS (SELECT id, ${carrier}::jsonb AS carrier FROM inserted),
        job AS (${trusted(job)})
        SELECT id FROM inbox`,
    );
    return found[0]?.id ?? null;
  }

  /** The batch's rows; the payload only for `payloadTypes` or rows without an account (to find their tenant). */
  async readBatch(ids: string[], payloadTypes: string[]): Promise<InboxSnapshot[]> {
    return preparedRows<InboxSnapshot>(
      this.dataSource,
      'webhook-batch',
      sql`SELECT id, stripe_event_id, type, stripe_account_id, tenant_id, livemode, status, event_created,
                 received_at, statement_timestamp() AS read_at,
                 CASE WHEN type = ANY(${payloadTypes}) OR stripe_account_id IS NULL THEN payload END AS payload
            FROM stripe_webhook_events WHERE id = ANY(${ids}::uuid[])`,
    );
  }

  /**
   * Settles rows no handler touches, in one statement; a row another job settled first is left as it is. Answers
   * the rows it settled. `asyncCommit` as for lock().
   */
  async settleMany(
    settled: InboxSettlement[],
    asyncCommit = false,
  ): Promise<Array<{ type: string; outcome: string }>> {
    const noFlushWait = asyncCommit ? sql`CROSS JOIN set_config('synchronous_commit', 'off', true)` : empty;
    return preparedRows(
      this.dataSource,
      'webhook-settle',
      sql`WITH input AS (
          SELECT * FROM unnest(${settled.map((s) => s.id)}::uuid[], ${settled.map((s) => s.status)}::text[],
                               ${settled.map((s) => s.outcome)}::text[], ${settled.map((s) => s.tenantId)}::text[],
                               ${settled.map((s) => s.stamp)}::boolean[])
            AS i(id, status, outcome, tenant_id, stamp)),
        locked AS (
          SELECT e.id FROM stripe_webhook_events e JOIN input i ON i.id = e.id ${noFlushWait}
           WHERE e.status NOT IN ${list(SETTLED_WEBHOOK_STATUSES)} ORDER BY e.id FOR UPDATE OF e)
        UPDATE stripe_webhook_events e
           SET status = i.status::stripe_webhook_event_status, outcome = i.outcome, tenant_id = i.tenant_id,
               attempts = e.attempts + 1, last_error = NULL,
               processed_at = CASE WHEN i.stamp THEN COALESCE(e.processed_at, now()) ELSE e.processed_at END
          FROM input i JOIN locked l ON l.id = i.id
         WHERE e.id = i.id
        RETURNING e.type, e.outcome`,
    );
  }

  /**
   * The row locked for processing, as it is now. `asyncCommit`: the transaction's commit will not wait for its WAL
   * flush (set_config(..., true) is SET LOCAL), for a job's transaction whose completion commits after it.
   */
  async lock(manager: EntityManager, id: string, asyncCommit = false): Promise<LockedInboxRow | undefined> {
    const [row] = await preparedRowsOn<LockedInboxRow>(
      manager,
      'webhook-lock',
      asyncCommit
        ? sql`SELECT e.status, e.processed_at, e.received_at, e.tenant_id
                FROM stripe_webhook_events e, set_config('synchronous_commit', 'off', true)
               WHERE e.id = ${id} FOR UPDATE OF e`
        : sql`SELECT status, processed_at, received_at, tenant_id FROM stripe_webhook_events WHERE id = ${id} FOR UPDATE`,
    );
    return row;
  }

  /** The row's final state, written in the processing transaction (which holds its lock). */
  finishSql(s: InboxSettlement): Sql {
    return sql`UPDATE stripe_webhook_events
        SET status = ${s.status}, outcome = ${s.outcome}, tenant_id = ${s.tenantId}, attempts = attempts + 1,
            last_error = NULL, processed_at = CASE WHEN ${s.stamp}::boolean THEN now() ELSE processed_at END
      WHERE id = ${s.id}`;
  }

  async finish(manager: EntityManager, s: InboxSettlement): Promise<void> {
    await preparedRowsOn(manager, 'webhook-finish', this.finishSql(s));
  }

  /** A failed attempt of a waiting row; its type, or undefined when the row is not waiting. */
  async recordFailure(id: string, message: string): Promise<string | undefined> {
    const row = await one<{ type: string }>(
      this.dataSource,
      sql`UPDATE stripe_webhook_events SET attempts = attempts + 1, last_error = ${message}, status = 'failed'
           WHERE id = ${id} AND status IN ${list(WAITING_WEBHOOK_STATUSES)} RETURNING type`,
    );
    return row?.type;
  }

  /** A waiting row whose last retry failed; its type, or undefined when the row is not waiting. */
  async markDead(id: string): Promise<string | undefined> {
    const row = await one<{ type: string }>(
      this.dataSource,
      sql`UPDATE stripe_webhook_events SET status = 'dead'
           WHERE id = ${id} AND status IN ${list(WAITING_WEBHOOK_STATUSES)} RETURNING type`,
    );
    return row?.type;
  }

  /** One grouped COUNT over `statuses` (index on status, received_at), min() for the waiting age. */
  async countByStatus(
    statuses: readonly string[],
  ): Promise<Array<{ status: string; count: string; oldest: string | null }>> {
    return rows(
      this.dataSource,
      sql`SELECT status, count(*)::text AS count, extract(epoch FROM now() - min(received_at))::text AS oldest
            FROM stripe_webhook_events WHERE status = ANY(${statuses}::stripe_webhook_event_status[])
           GROUP BY status`,
    );
  }
}

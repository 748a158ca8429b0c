import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  SETTLED_WEBHOOK_STATUSES,
  Sql,
  StripeWebhookEventSource,
  citusDistributed,
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

import { WEBHOOK_PROCESS_QUEUE } from './webhooks.queues';

/** What processing reads of an inbox row under its lock. */
export interface LockedInboxRow {
  status: StripeWebhookEventStatus;
  processed_at: Date | null;
  received_at: Date;
  tenant_id: string | null;
}

/** An event as the intake stores it: the payload as the text Stripe signed (PostgreSQL parses it). */
export interface InboxInsert {
  event: StripeEvent;
  payloadJson: string;
  status: StripeWebhookEventStatus;
  outcome: string | null;
  source: StripeWebhookEventSource;
}

/** An inbox row as the batch read it, without a lock: only what processing never changes is trusted from it. */
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

/** An inbox row as a job names it: its id, and its Stripe event id (the row's shard on Citus) when the job has it. */
export interface InboxKey {
  id: string;
  eventId?: string;
}

/** `AND stripe_event_id = …` when the key has it: on Citus the statement then runs on the row's shard alone. */
const onShard = (key: InboxKey): Sql => (key.eventId ? sql`AND stripe_event_id = ${key.eventId}` : empty);

/** The final state of an inbox row processing settles; `stamp` sets processed_at. */
export interface InboxSettlement {
  id: string;
  /** The row's distribution key on Citus: with it, a statement on the row runs on its one shard. */
  stripeEventId: string;
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
      RETURNING id, stripe_event_id`;
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
      "jsonb_build_object('inboxId', inbox.id, 'eventId', inbox.stripe_event_id) || inbox.carrier",
    );
    const found = await preparedRows<{ id: string }>(
      this.dataSource,
      'webhook-accept',
      sql`WITH inserted AS (${this.insertSql(r)}),
        inbox AS (SELECT id, stripe_event_id, ${carrier}::jsonb AS carrier FROM inserted),
        job AS (${trusted(job)})
        SELECT id FROM inbox`,
    );
    return found[0]?.id ?? null;
  }

  /**
   * The batch's rows; the payload only for `payloadTypes` or rows without an account (to find their tenant). When
   * every key has its event id, on Citus only the shards of those events are read.
   */
  async readBatch(keys: InboxKey[], payloadTypes: string[]): Promise<InboxSnapshot[]> {
    const ids = keys.map((k) => k.id);
    const eventIds = keys.map((k) => k.eventId);
    const shards = eventIds.every((e): e is string => e !== undefined)
      ? sql`AND stripe_event_id = ANY(${eventIds})`
      : empty;
    return preparedRows<InboxSnapshot>(
      this.dataSource,
      'webhook-batch',
      sql`SELECT id, stripe_event_id, type, stripe_account_id, tenant_id, livemode, status, event_created,
                 received_at, statement_timestamp() AS read_at,
                 CASE WHEN type = ANY(${payloadTypes}) OR stripe_account_id IS NULL THEN payload END AS payload
            FROM stripe_webhook_events WHERE id = ANY(${ids}::uuid[]) ${shards}`,
    );
  }

  /**
   * Settles rows no handler touches, in one statement; a row another job settled first is left as it is. Answers
   * the rows it settled. On one node the rows are locked first in id order (concurrent replicas cannot deadlock on
   * them); Citus refuses a row lock across shards, so there the UPDATE alone re-checks each row's status (Citus's
   * distributed deadlock detection covers the rest), with the timestamp read once since Citus sends only immutable
   * expressions to the shards inside a CASE.
   */
  async settleMany(
    settled: InboxSettlement[],
    asyncCommit = false,
  ): Promise<Array<{ type: string; outcome: string }>> {
    const input = sql`input AS (
          SELECT i.*, now() AS at
            FROM unnest(${settled.map((s) => s.id)}::uuid[], ${settled.map((s) => s.stripeEventId)}::text[],
                        ${settled.map((s) => s.status)}::stripe_webhook_event_status[],
                        ${settled.map((s) => s.outcome)}::text[], ${settled.map((s) => s.tenantId)}::text[],
                        ${settled.map((s) => s.stamp)}::boolean[])
              AS i(id, stripe_event_id, status, outcome, tenant_id, stamp))`;
    const set = sql`SET status = i.status, outcome = i.outcome, tenant_id = i.tenant_id,
               attempts = e.attempts + 1, last_error = NULL,
               processed_at = CASE WHEN i.stamp THEN COALESCE(e.processed_at, i.at) ELSE e.processed_at END`;
    const open = sql`e.status NOT IN ${list(SETTLED_WEBHOOK_STATUSES)}`;
    const sharded = (await citusDistributed(this.dataSource)).has('stripe_webhook_events');
    // One statement is its own transaction: SET LOCAL in it spares its commit the WAL flush wait (see lock()).
    const noFlushWait = asyncCommit ? sql`CROSS JOIN set_config('synchronous_commit', 'off', true)` : empty;
    return preparedRows(
      this.dataSource,
      'webhook-settle',
      sharded
        ? sql`WITH ${input}
          UPDATE stripe_webhook_events e ${set} FROM input i
           WHERE e.id = i.id AND e.stripe_event_id = i.stripe_event_id AND ${open}
          RETURNING e.type, e.outcome`
        : sql`WITH ${input},
          locked AS (
            SELECT e.id FROM stripe_webhook_events e JOIN input i ON i.id = e.id ${noFlushWait}
             WHERE ${open} ORDER BY e.id FOR UPDATE OF e)
          UPDATE stripe_webhook_events e ${set}
            FROM input i JOIN locked l ON l.id = i.id
           WHERE e.id = i.id
          RETURNING e.type, e.outcome`,
    );
  }

  /**
   * The row locked for processing, as it is now. `asyncCommit`: the transaction's commit will not wait for its WAL
   * flush (set_config(..., true) is SET LOCAL), for a job's transaction whose completion commits after it (a crash
   * before that loses both, and the job runs again). On Citus the statement runs on a worker, so it commits as usual.
   */
  async lock(
    manager: EntityManager,
    id: string,
    stripeEventId: string,
    asyncCommit = false,
  ): Promise<LockedInboxRow | undefined> {
    const local = asyncCommit && !(await citusDistributed(this.dataSource)).has('stripe_webhook_events');
    const [row] = await preparedRowsOn<LockedInboxRow>(
      manager,
      'webhook-lock',
      local
        ? sql`SELECT e.status, e.processed_at, e.received_at, e.tenant_id
                FROM stripe_webhook_events e, set_config('synchronous_commit', 'off', true)
               WHERE e.id = ${id} AND e.stripe_event_id = ${stripeEventId} FOR UPDATE OF e`
        : sql`SELECT status, processed_at, received_at, tenant_id FROM stripe_webhook_events
               WHERE id = ${id} AND stripe_event_id = ${stripeEventId} FOR UPDATE`,
    );
    return row;
  }

  /** The row's final state, written in the processing transaction (which holds its lock). */
  finishSql(s: InboxSettlement): Sql {
    return sql`UPDATE stripe_webhook_events
        SET status = ${s.status}, outcome = ${s.outcome}, tenant_id = ${s.tenantId}, attempts = attempts + 1,
            last_error = NULL, processed_at = CASE WHEN ${s.stamp}::boolean THEN now() ELSE processed_at END
      WHERE id = ${s.id} AND stripe_event_id = ${s.stripeEventId}`;
  }

  async finish(manager: EntityManager, s: InboxSettlement): Promise<void> {
    await preparedRowsOn(manager, 'webhook-finish', this.finishSql(s));
  }

  /** A failed attempt of a waiting row; its type, or undefined when the row is not waiting. */
  async recordFailure(key: InboxKey, message: string): Promise<string | undefined> {
    const row = await one<{ type: string }>(
      this.dataSource,
      sql`UPDATE stripe_webhook_events SET attempts = attempts + 1, last_error = ${message}, status = 'failed'
           WHERE id = ${key.id} ${onShard(key)} AND status IN ${list(WAITING_WEBHOOK_STATUSES)} RETURNING type`,
    );
    return row?.type;
  }

  /** A waiting row whose last retry failed; its type, or undefined when the row is not waiting. */
  async markDead(key: InboxKey): Promise<string | undefined> {
    const row = await one<{ type: string }>(
      this.dataSource,
      sql`UPDATE stripe_webhook_events SET status = 'dead'
           WHERE id = ${key.id} ${onShard(key)} AND status IN ${list(WAITING_WEBHOOK_STATUSES)} RETURNING type`,
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

import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { Sql, empty, preparedRowsOn, sql, trusted } from '@app/database';
import { JobQueue } from '../queue/job-queue.service';
import { DISPATCH_QUEUE } from './events.queues';

/** One ConnectEvent to write: its row and the trace context its dispatch job carries. */
export interface ConnectEventRow {
  id: string;
  type: string;
  tenant_id: string;
  data: Record<string, unknown>;
  /** The emitter's W3C trace context as JSON ('{}' when tracing is off). */
  carrier: string;
}

/** A CTE name chosen by the code (the queue's job INSERT reads from it by name). */
const cteName = (name: string): Sql => {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`unsafe CTE name ${JSON.stringify(name)}`);
  return trusted(name);
};

/** connect_events: the transactional outbox's rows, each written with its dispatch job in the same statement. */
@Injectable()
export class ConnectEventsRepository {
  constructor(private readonly queue: JobQueue) {}

  /**
   * The CTEs `${name}` (the event, once per row of `source`, or once without one) and `${name}_job` (its dispatch
   * job, as JobQueue.send would create it), to compose into a caller's statement.
   */
  insertCtes(name: string, e: ConnectEventRow, source?: string): Sql {
    const cte = cteName(name);
    const from = source ? sql`FROM ${cteName(source)}` : empty;
    const job = this.queue.insertJobsFromSql(
      DISPATCH_QUEUE,
      name,
      `jsonb_build_object('eventId', ${name}.id) || ${name}.carrier`,
    );
    return sql`${cte} AS (INSERT INTO connect_events (id, type, tenant_id, data)
        SELECT ${e.id}::uuid, ${e.type}, ${e.tenant_id}, ${JSON.stringify(e.data)}::jsonb ${from}
        RETURNING id, ${e.carrier}::jsonb AS carrier),
      ${cteName(`${name}_job`)} AS (${trusted(job)})`;
  }

  /**
   * The event and its job in one statement; `alongside`, a data-modifying statement of the caller's, joins it.
   * Prepared: its text is fixed per `alongside` text, and every emit in a transaction runs it.
   */
  async insert(db: DataSource | EntityManager, e: ConnectEventRow, alongside?: Sql): Promise<void> {
    await preparedRowsOn(
      db,
      'connect-event',
      sql`WITH ${this.insertCtes('event', e)}${alongside ? sql`, alongside AS (${alongside})` : empty}
        SELECT id FROM event`,
    );
  }
}

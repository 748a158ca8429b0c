import { Pool } from 'pg';
import type PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { Db, Sql, ident, keyword, rows, sql } from '@app/database';

/** pg-boss's own statements on its own pool. */
export const poolExecutor = (pool: Pool): PgBoss.Db => ({
  executeSql: (text: string, values: unknown[]) => pool.query(text, values),
});

/** pg-boss's own statements inside the caller's transaction (a job enqueued with the caller's state change). */
export const transactionExecutor = (manager: EntityManager): PgBoss.Db => ({
  executeSql: async (text: string, values: unknown[]) => ({
    rows: (await manager.query(text, values)) as unknown[],
  }),
});
import type { QueueCount } from './job-queue-metrics';

/**
 * The statements on pg-boss 10's own tables (`<schema>.job`, `<schema>.queue`) that pg-boss has no call for.
 * Only JobQueue uses it: no other module touches pg-boss's tables. The e2e suites of the queue, the webhook
 * intake and the gauges guard it against a pg-boss upgrade.
 */
export class PgBossJobsRepository {
  private readonly db: Db;
  private readonly schema: Sql;

  constructor(pool: Pool, schemaName: string) {
    this.db = {
      query: async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows,
    } as Db;
    this.schema = ident(schemaName, [schemaName]);
  }

  /** Puts active jobs back to `created` (retry count untouched) so any replica fetches them again now. */
  async handBack(name: string, ids: string[]): Promise<void> {
    await rows(
      this.db,
      sql`UPDATE ${this.schema}.job SET state = 'created', started_on = NULL
           WHERE name = ${name} AND id = ANY(${ids}::uuid[]) AND state = 'active'`,
    );
  }

  /**
   * Jobs waiting to run (created, or failed and waiting for a retry) per queue, within pg-boss's partial index of
   * waiting jobs (state < 'active'); every defined queue answers, 0 included, so a rule on a queue that drains
   * still has a series.
   */
  waitingCounts(): Promise<QueueCount[]> {
    return rows(
      this.db,
      sql`SELECT q.name AS queue, s.state, count(j.id)::int AS count
            FROM ${this.schema}.queue q CROSS JOIN (VALUES ('created'), ('retry')) AS s(state)
            LEFT JOIN ${this.schema}.job j ON j.name = q.name AND j.state < 'active' AND j.state::text = s.state
           GROUP BY q.name, s.state`,
    );
  }

  /**
   * A fragment that enqueues one job per row of `source` (a CTE of the caller's statement) with `data` as each
   * job's data, taking the queue's own retry, expiry, retention and dead-letter settings the way pg-boss's `send`
   * does, so a hot path writes its row and its job in one statement.
   */
  insertJobsFrom(name: string, source: Sql, data: Sql): Sql {
    return this.jobsFrom(sql`${name}`, source, data);
  }

  /** The same fragment as text, the queue name inlined (checked), for statements that still number their own `$n`. */
  insertJobsFromText(name: string, source: string, dataSql: string): string {
    if (!/^[\w.-]+$/.test(name) || !/^\w+$/.test(source)) throw new Error('unsafe queue or source name');
    const literal = `'${name}'`;
    // The caller's data expression is code of the caller's own statement, never input.
    return this.jobsFrom(keyword(literal, [literal]), ident(source, [source]), keyword(dataSql, [dataSql]))
      .text;
  }

  private jobsFrom(name: Sql, source: Sql, data: Sql): Sql {
    return sql`INSERT INTO ${this.schema}.job (name, data, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
      SELECT q.name, ${data}, q.dead_letter,
        COALESCE(q.expire_seconds, 900) * interval '1s',
        now() + COALESCE(q.retention_minutes * interval '1 minute', interval '14 days'),
        COALESCE(q.retry_limit, 2),
        CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(COALESCE(q.retry_delay, 0), 1) ELSE COALESCE(q.retry_delay, 0) END,
        COALESCE(q.retry_backoff, false),
        q.policy
      FROM ${source} JOIN ${this.schema}.queue q ON q.name = ${name}
      RETURNING id`;
  }
}

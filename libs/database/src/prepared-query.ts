import { createHash } from 'node:crypto';
import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Sql } from './sql';

/** Statement names by text, made once. */
const names = new Map<string, string>();

/** The name carries a digest of the text: pg refuses one name for two texts on a connection (e.g. two queue schemas). */
function statementName(name: string, text: string): string {
  let statement = names.get(text);
  if (!statement) {
    statement = `${name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, statement);
  }
  return statement;
}

async function runPrepared<R extends QueryResultRow>(client: PoolClient, name: string, q: Sql): Promise<R[]> {
  return (await client.query<R>({ name: statementName(name, q.text), text: q.text, values: q.values })).rows;
}

/**
 * Runs one statement (written with the `sql` tag) as a named prepared statement on TypeORM's own pool (same
 * connections, same limits). For the few statements a hot path runs on every request: PostgreSQL parses and plans it
 * once per connection instead of every time (TypeORM's query() cannot ask for it). The connection is checked out
 * through a TypeORM query runner, which listens for its errors: a connection the server ends mid-query (a restart)
 * must fail the query, not the process. pg prepares the name again on a new connection by itself (after a restart,
 * for instance). Only for fixed texts: every distinct text stays prepared on each connection.
 */
export async function preparedRows<R extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  q: Sql,
): Promise<R[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return await runPrepared<R>((await runner.connect()) as PoolClient, name, q);
  } finally {
    await runner.release();
  }
}

/**
 * preparedRows on a transaction's own connection when `db` is a transaction's manager (the hot statements of a
 * transaction per event), else as preparedRows.
 */
export async function preparedRowsOn<R extends QueryResultRow>(
  db: DataSource | EntityManager,
  name: string,
  q: Sql,
): Promise<R[]> {
  if ('manager' in db) return preparedRows<R>(db, name, q);
  const runner = db.queryRunner;
  if (!runner || runner.isReleased) return preparedRows<R>(db.connection, name, q);
  return runPrepared<R>((await runner.connect()) as PoolClient, name, q);
}

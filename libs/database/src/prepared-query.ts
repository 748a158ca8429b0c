import { createHash } from 'node:crypto';
import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { Sql } from './sql';

/** Statement names by text, made once. */
const names = new Map<string, string>();

/**
 * Runs one statement (written with the `sql` tag) as a named prepared statement on TypeORM's own pool (same
 * connections, same limits). For the few statements a hot path runs on every request: PostgreSQL parses and plans it
 * once per connection instead of every time (TypeORM's query() cannot ask for it). The connection is checked out
 * through a TypeORM query runner, which listens for its errors: a connection the server ends mid-query (a restart)
 * must fail the query, not the process. pg prepares the name again on a new connection by itself (after a restart,
 * for instance). The name carries a digest of the text: pg refuses one name for two texts on a connection (e.g. two
 * queue schemas).
 */
export async function preparedRows<R extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  q: Sql,
): Promise<R[]> {
  const text = q.text;
  let statement = names.get(text);
  if (!statement) {
    statement = `${name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, statement);
  }
  const runner = dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query<R>({ name: statement, text, values: q.values })).rows;
  } finally {
    await runner.release();
  }
}

import { createHash } from 'node:crypto';
import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/** Statement names by text, made once. */
const names = new Map<string, string>();

/**
 * Runs one statement as a named prepared statement on TypeORM's own pool (same connections, same limits). For
 * the few statements a hot path runs on every request: PostgreSQL parses and plans it once per connection instead of
 * every time (TypeORM's query() cannot ask for it). The connection is checked out through a TypeORM query runner, which
 * listens for its errors: a connection the server ends mid-query (a restart) must fail the query, not the process.
 * pg prepares the name again on a new connection by itself (after a restart, for instance). The name carries a
 * digest of the text: pg refuses one name for two texts on a connection (e.g. two queue schemas).
 */
export async function preparedQuery<R extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  let statement = names.get(text);
  if (!statement) {
    statement = `${name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, statement);
  }
  const runner = dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query<R>({ name: statement, text, values })).rows;
  } finally {
    await runner.release();
  }
}

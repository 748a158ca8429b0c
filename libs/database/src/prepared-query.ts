import { createHash } from 'node:crypto';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs one statement as a named prepared statement on TypeORM's own pool (same connections, same limits). For
 * the few statements a hot path runs on every request: PostgreSQL parses and plans it once per connection instead of
 * every time, and the call skips TypeORM's query-runner round (acquire, log hooks, release) around a single query.
 * pg prepares the name again on a new connection by itself (after a restart, for instance). The name carries a
 * digest of the text: pg refuses one name for two texts on a connection (e.g. two queue schemas).
 */
const names = new Map<string, string>();

export async function preparedQuery<R extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  let statement = names.get(text);
  if (!statement) {
    statement = `${name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, statement);
  }
  const result = await pool.query<R>({ name: statement, text, values });
  return result.rows;
}

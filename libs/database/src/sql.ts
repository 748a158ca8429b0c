import sqlTag, { Sql, bulk, empty, join, raw } from 'sql-template-tag';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * The one way application code writes SQL: a composable tagged template whose interpolated values are always
 * bound parameters (`sql\`... WHERE id = ${id}\``), fragments nest (`sql\`... ${where}\``), `join` lists
 * fragments, `empty` is the neutral fragment. Placeholders are numbered by the tag, never by hand.
 */
export const sql = sqlTag;
export { Sql, bulk, empty, join };

/** Anything TypeORM can run a statement on: the data source, a transaction's manager, a query runner. */
export type Db = Pick<DataSource | EntityManager | QueryRunner, 'query'>;

/**
 * An identifier (table, column, schema) spliced as text: only names from a fixed list the code owns, so
 * caller input can never become SQL. Quoted, so mixed-case and reserved names work.
 */
export function ident(name: string, allowed: readonly string[]): Sql {
  if (!allowed.includes(name))
    throw new Error(`identifier ${JSON.stringify(name)} is not in the allowed list`);
  return raw(`"${name.replace(/"/g, '""')}"`);
}

/**
 * SQL text the code itself generated from names it owns (e.g. the job queue's INSERT for a fixed queue), spliced
 * as is. It may carry no placeholder: values go through `sql` only.
 */
export function trusted(text: string): Sql {
  if (/\$\d/.test(text)) throw new Error('trusted SQL must not carry placeholders: bind values with sql``');
  return raw(text);
}

/** A trusted constant SQL keyword or expression chosen by the code (e.g. `ASC`/`DESC`), never caller input. */
export function keyword<T extends string>(word: T, allowed: readonly T[]): Sql {
  if (!allowed.includes(word)) throw new Error(`keyword ${JSON.stringify(word)} is not in the allowed list`);
  return raw(word);
}

/** TypeORM answers UPDATE/DELETE as `[rows, rowCount]`; everything else as rows. */
function isUpdateResult(result: unknown): result is [unknown[], number] {
  return (
    Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number'
  );
}

/** Runs `q` and answers its rows (RETURNING rows for INSERT/UPDATE/DELETE). */
export async function rows<R>(db: Db, q: Sql): Promise<R[]> {
  const result: unknown = await db.query(q.text, q.values);
  if (isUpdateResult(result)) return result[0] as R[];
  return Array.isArray(result) ? (result as R[]) : [];
}

/** Runs `q` and answers its first row, or undefined. */
export async function one<R>(db: Db, q: Sql): Promise<R | undefined> {
  return (await rows<R>(db, q))[0];
}

/** Runs `q` (UPDATE/DELETE) and answers how many rows it touched; for other statements the rows it answered. */
export async function affected(db: Db, q: Sql): Promise<number> {
  const result: unknown = await db.query(q.text, q.values);
  if (isUpdateResult(result)) return result[1];
  return Array.isArray(result) ? result.length : 0;
}

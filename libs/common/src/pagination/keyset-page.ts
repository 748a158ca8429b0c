import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { cursorTimestampSql, decodeKeysetCursor, pageOf } from './keyset-cursor';

export interface KeysetPage<T> {
  rows: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * Runs a list query as one keyset page, newest first on (`column`, id): applies the `cursor`, the order and
 * `limit + 1`, and answers the page with the cursor of its last row. The caller adds only its filters.
 * `column` is a timestamptz column of the query's main alias, e.g. 'created_at'.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  q: { column: Extract<keyof T, string>; limit: number; cursor?: string },
): Promise<KeysetPage<T>> {
  const a = qb.alias;
  const at = `${a}.${q.column}`;
  if (q.cursor) {
    const c = decodeKeysetCursor(q.cursor);
    qb.andWhere(`(${at}, ${a}.id) < (CAST(:keysetAt AS timestamptz), CAST(:keysetId AS uuid))`, {
      keysetAt: c.at,
      keysetId: c.id,
    });
  }
  // The cursor keeps PostgreSQL's microseconds: a JS Date (milliseconds) would skip or repeat rows.
  qb.addSelect(cursorTimestampSql(at), `${a}_keyset_at`)
    .orderBy(at, 'DESC')
    .addOrderBy(`${a}.id`, 'DESC')
    .limit(q.limit + 1);
  const { entities, raw } = await qb.getRawAndEntities<Record<string, string>>();
  const cursorAt = new Map(raw.map((r) => [r[`${a}_id`], r[`${a}_keyset_at`]]));
  return pageOf(entities, q.limit, (row) => cursorAt.get(row.id) ?? (row[q.column] as Date));
}

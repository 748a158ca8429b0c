import { fieldError } from '../errors/service-error';
import { isUuid } from '../validation/id-param.pipe';

/**
 * Opaque keyset cursors over (timestamp, id), newest first, shared by every list endpoint. The timestamp travels
 * as text with PostgreSQL's microseconds (`cursorTimestampSql`): a JS Date keeps milliseconds only, and a cursor
 * rounded to the millisecond would skip the rows created within that millisecond.
 */
export interface KeysetCursor {
  /** ISO-8601 UTC with up to 6 fractional digits; compare in SQL with CAST(:at AS timestamptz). */
  at: string;
  id: string;
}

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** Renders a timestamptz column as the cursor's text, microseconds included. */
export function cursorTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export function encodeKeysetCursor(at: Date | string, id: string): string {
  const text = at instanceof Date ? at.toISOString() : at;
  return Buffer.from(JSON.stringify([text, id]), 'utf8').toString('base64url');
}

export function decodeKeysetCursor(cursor: string): KeysetCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      if (TS.test(parsed[0]) && isUuid(parsed[1])) return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw fieldError('cursor', 'cursor is not a cursor returned by this list');
}

/**
 * Splits the `limit + 1` rows a keyset query fetched into a page and its `next_cursor`. `cursorAt` gives the
 * last row's timestamp (defaults to its `created_at`; pass the microsecond text where the column has it).
 */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
  cursorAt: (row: T) => Date | string = (row) => (row as unknown as { created_at: Date }).created_at,
): { rows: T[]; has_more: boolean; next_cursor: string | null } {
  const has_more = rows.length > limit;
  const page = has_more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    rows: page,
    has_more,
    next_cursor: has_more && last ? encodeKeysetCursor(cursorAt(last), last.id) : null,
  };
}

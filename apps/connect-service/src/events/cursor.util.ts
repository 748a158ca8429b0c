import { ServiceException } from '@app/common';

/** Opaque keyset cursor over (created_at, id), newest first. */
export interface KeysetCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id]), 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): KeysetCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      const createdAt = new Date(parsed[0]);
      if (!Number.isNaN(createdAt.getTime()) && UUID.test(parsed[1])) return { createdAt, id: parsed[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw new ServiceException('CONNECT_010', 'Validation failed', {
    fields: [{ field: 'cursor', errors: ['cursor is not a cursor returned by this list'] }],
  });
}

/** Splits the `limit + 1` rows a keyset query fetched into a page and its `next_cursor`. */
export function pageOf<T extends { created_at: Date; id: string }>(
  rows: T[],
  limit: number,
): { rows: T[]; has_more: boolean; next_cursor: string | null } {
  const has_more = rows.length > limit;
  const page = has_more ? rows.slice(0, limit) : rows;
  return { rows: page, has_more, next_cursor: has_more ? encodeCursor(page[page.length - 1]) : null };
}

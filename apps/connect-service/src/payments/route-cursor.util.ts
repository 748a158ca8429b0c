import { ServiceException } from '@app/common';

/** Opaque keyset cursor over (created_at, id): the timestamp keeps PostgreSQL's microseconds as text. */
export function encodeRouteCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function decodeRouteCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      if (TS.test(parsed[0]) && UUID.test(parsed[1])) return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw new ServiceException('CONNECT_010', 'Validation failed', {
    fields: [{ field: 'cursor', errors: ['cursor is not a cursor returned by this list'] }],
  });
}

import { ServiceException } from '@app/common';

/** Opaque keyset cursor over the inbox's (received_at, id), newest first. */
export interface InboxCursor {
  receivedAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeInboxCursor(row: { received_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.received_at.toISOString(), row.id]), 'utf8').toString('base64url');
}

export function decodeInboxCursor(cursor: string): InboxCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      const receivedAt = new Date(parsed[0]);
      if (!Number.isNaN(receivedAt.getTime()) && UUID.test(parsed[1])) return { receivedAt, id: parsed[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw new ServiceException('CONNECT_010', 'Validation failed', {
    fields: [{ field: 'cursor', errors: ['cursor is not a cursor returned by this list'] }],
  });
}

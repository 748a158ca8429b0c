import { randomUUID } from 'node:crypto';
import { decodeKeysetCursor, encodeKeysetCursor, pageOf } from './keyset-cursor';
import { ErrorCode } from '../errors/error-codes';

describe('keyset cursors', () => {
  it('round-trips a Date and a microsecond timestamp', () => {
    const id = randomUUID();
    const at = new Date('2026-11-26T04:15:27.123Z');
    expect(decodeKeysetCursor(encodeKeysetCursor(at, id))).toEqual({ at: '2026-11-26T04:15:27.123Z', id });
    expect(decodeKeysetCursor(encodeKeysetCursor('2026-11-26T04:15:27.123456Z', id))).toEqual({
      at: '2026-11-26T04:15:27.123456Z',
      id,
    });
  });

  it.each([
    'garbage',
    Buffer.from('["2026-11-26T04:15:27Z"]').toString('base64url'),
    Buffer.from('["yesterday", "2b1c0e6e-1d4b-4f3a-9c55-2f3e4d5c6b7a"]').toString('base64url'),
    Buffer.from('["2026-11-26T04:15:27Z", "1; DROP TABLE x"]').toString('base64url'),
    Buffer.from('{"at":1}').toString('base64url'),
  ])('refuses %s with a CONNECT_010 naming the cursor', (bad) => {
    expect(() => decodeKeysetCursor(bad)).toThrow(
      expect.objectContaining({ code: ErrorCode.ValidationFailed }),
    );
  });

  it('pages limit + 1 rows into a page and the cursor of its last row', () => {
    const rows = [3, 2, 1].map((n) => ({ id: randomUUID(), created_at: new Date(Date.UTC(2026, 0, n)) }));
    const page = pageOf(rows, 2);
    expect(page.rows).toHaveLength(2);
    expect(page.has_more).toBe(true);
    expect(decodeKeysetCursor(page.next_cursor!)).toEqual({
      at: rows[1].created_at.toISOString(),
      id: rows[1].id,
    });
    expect(pageOf(rows, 3)).toMatchObject({ has_more: false, next_cursor: null });
    const custom = pageOf(rows, 1, () => '2026-01-03T00:00:00.000001Z');
    expect(decodeKeysetCursor(custom.next_cursor!).at).toBe('2026-01-03T00:00:00.000001Z');
  });
});

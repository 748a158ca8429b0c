import {
  nextRetryDelaySeconds,
  normalizeEventTypes,
  responseExcerpt,
  subscriptionMatches,
  subscriptionUrlProblem,
} from './delivery-policy';
import { decodeCursor, encodeCursor, pageOf } from './cursor.util';

describe('nextRetryDelaySeconds', () => {
  const schedule = [5, 300, 1800, 7200, 18000, 36000];
  it.each([
    [0, 5],
    [1, 300],
    [5, 36000],
    [6, null],
    [-1, null],
  ])('after attempt step %i waits %p', (step, expected) => {
    expect(nextRetryDelaySeconds(schedule, step)).toBe(expected);
  });

  it('gives one attempt and no retry with an empty schedule', () => {
    expect(nextRetryDelaySeconds([], 0)).toBeNull();
  });
});

describe('subscriptionUrlProblem', () => {
  it.each([
    ['https://platform.example.com/hooks', false, null],
    ['https://platform.example.com/hooks', true, null],
    ['http://127.0.0.1:4000/hook', false, null],
    ['http://localhost:4000/hook', false, null],
    ['http://[::1]:4000/hook', false, null],
  ])('accepts %s (production=%p)', (url, production, expected) => {
    expect(subscriptionUrlProblem(url, { production })).toBe(expected);
  });

  it.each([
    ['http://127.0.0.1:4000/hook', true],
    ['http://platform.example.com/hook', false],
    ['http://10.0.0.5/hook', false],
    ['ftp://platform.example.com/hook', false],
    ['https://user:pass@platform.example.com/hook', false],
    ['not a url', false],
    ['/relative/path', false],
  ])('refuses %s (production=%p)', (url, production) => {
    expect(subscriptionUrlProblem(url, { production })).toEqual(expect.any(String));
  });
});

describe('normalizeEventTypes', () => {
  it('collapses any wildcard to ["*"]', () => {
    expect(normalizeEventTypes(['connect.payment.completed', '*'])).toEqual(['*']);
  });
  it('deduplicates and sorts', () => {
    expect(
      normalizeEventTypes(['connect.payment.failed', 'connect.payment.completed', 'connect.payment.failed']),
    ).toEqual(['connect.payment.completed', 'connect.payment.failed']);
  });
});

describe('subscriptionMatches', () => {
  const event = { tenant_id: 't1', type: 'connect.payment.completed' };
  it.each([
    [{ tenant_id: null, event_types: ['*'] }, true],
    [{ tenant_id: 't1', event_types: ['connect.payment.completed'] }, true],
    [{ tenant_id: 't2', event_types: ['*'] }, false],
    [{ tenant_id: 't1', event_types: ['connect.payment.failed'] }, false],
  ])('%j → %p', (sub, expected) => {
    expect(subscriptionMatches(sub, event)).toBe(expected);
  });
});

describe('responseExcerpt', () => {
  it('drops NUL characters and keeps at most the limit', () => {
    expect(responseExcerpt('a\u0000b'.repeat(1000), 10)).toBe('abababab'.concat('ab'));
    expect(responseExcerpt('x'.repeat(5000))).toHaveLength(1024);
  });
});

describe('keyset cursor', () => {
  const row = {
    created_at: new Date('2026-11-26T04:15:27.123Z'),
    id: '0b9f3c1e-6a2d-4f5e-8b7c-1d2e3f4a5b6c',
  };

  it('round-trips (created_at, id) exactly', () => {
    expect(decodeCursor(encodeCursor(row))).toEqual({ createdAt: row.created_at, id: row.id });
  });

  it.each([
    '',
    'garbage',
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('{}').toString('base64url'),
  ])('refuses %p as CONNECT_010 on the cursor field', (bad) => {
    expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'CONNECT_010' }));
  });

  it('pages limit+1 rows into has_more and a cursor at the last row kept', () => {
    const rows = [0, 1, 2].map((i) => ({ ...row, id: `0b9f3c1e-6a2d-4f5e-8b7c-1d2e3f4a5b6${i}` }));
    const page = pageOf(rows, 2);
    expect(page.rows).toHaveLength(2);
    expect(page.has_more).toBe(true);
    expect(decodeCursor(page.next_cursor!).id).toBe(rows[1].id);
    expect(pageOf(rows, 3)).toMatchObject({ has_more: false, next_cursor: null });
  });
});

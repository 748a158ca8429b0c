import {
  nextRetryDelaySeconds,
  normalizeEventTypes,
  responseExcerpt,
  subscriptionMatches,
  subscriptionUrlProblem,
} from './delivery-policy';

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

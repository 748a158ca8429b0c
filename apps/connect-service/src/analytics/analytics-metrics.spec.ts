import { bucketBounds, countersFor, deriveMetrics, divideHalfUp, planSources } from './analytics-metrics';
import { csvField, toCsv } from './csv.util';

describe('analytics metrics', () => {
  it('divides rounding half up, exactly', () => {
    expect(divideHalfUp(12_001, 2)).toBe(6_001);
    expect(divideHalfUp(12_000, 2)).toBe(6_000);
    expect(divideHalfUp(10, 3)).toBe(3);
    expect(divideHalfUp(11, 3)).toBe(4);
    expect(divideHalfUp(9_007_199_254_740_000, 7)).toBe(1_286_742_750_677_143);
  });

  it('derives ratios from counters, null when there is nothing to divide by', () => {
    const m = deriveMetrics(
      {
        payments_succeeded: 3,
        payments_failed: 1,
        gross_volume: 1_000,
        fees_collected: 90,
        fees_refunded: 100,
      },
      ['success_rate', 'average_ticket', 'net_platform_revenue', 'refunds_count'],
    );
    expect(m).toEqual({
      success_rate: 0.75,
      average_ticket: 333,
      net_platform_revenue: -10,
      refunds_count: 0,
    });
    expect(deriveMetrics({}, ['success_rate', 'average_ticket'])).toEqual({
      success_rate: null,
      average_ticket: null,
    });
  });

  it('derives the dispute rate from disputed and succeeded payments by count', () => {
    expect(deriveMetrics({ payments_succeeded: 400, disputes_count: 3 }, ['dispute_rate'])).toEqual({
      dispute_rate: 0.0075,
    });
    expect(deriveMetrics({ disputes_count: 1 }, ['dispute_rate'])).toEqual({ dispute_rate: null });
    expect(countersFor(['dispute_rate'])).toEqual(['payments_succeeded', 'disputes_count']);
  });

  it('reads only the counters the metrics need', () => {
    expect(countersFor(['average_ticket', 'success_rate'])).toEqual([
      'payments_succeeded',
      'payments_failed',
      'gross_volume',
    ]);
  });

  it('answers whole days from the daily rollup and the edges from the hourly one', () => {
    const d = (s: string) => new Date(s);
    expect(planSources(d('2026-11-01T05:00:00Z'), d('2026-11-04T02:00:00Z'), '1d')).toEqual({
      daily: [d('2026-11-02T00:00:00Z'), d('2026-11-04T00:00:00Z')],
      hourly: [
        [d('2026-11-01T05:00:00Z'), d('2026-11-02T00:00:00Z')],
        [d('2026-11-04T00:00:00Z'), d('2026-11-04T02:00:00Z')],
      ],
    });
    expect(planSources(d('2026-11-01T05:00:00Z'), d('2026-11-01T09:00:00Z'), 'total')).toEqual({
      daily: null,
      hourly: [[d('2026-11-01T05:00:00Z'), d('2026-11-01T09:00:00Z')]],
    });
    expect(planSources(d('2026-11-01T00:00:00Z'), d('2026-11-03T00:00:00Z'), '1h').daily).toBeNull();
    expect(
      bucketBounds(d('2026-11-01T00:00:00Z'), '1d', d('2026-11-01T05:00:00Z'), d('2026-11-04T02:00:00Z')),
    ).toEqual({ start: d('2026-11-01T05:00:00Z'), end: d('2026-11-02T00:00:00Z') });
  });
});

describe('RFC 4180 CSV', () => {
  it('quotes only what needs it and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
    expect(toCsv(['a', 'b'], [[1, null]])).toBe('a,b\r\n1,\r\n');
  });
});

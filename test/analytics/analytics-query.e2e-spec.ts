import { ErrorCode } from '@app/common';
import { PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { AnalyticsService } from '../../apps/connect-service/src/analytics/analytics.service';
import { parseCsv } from './csv-parse';
import { analyticsQuerySuite, at, iso } from './analytics-query-suite';

jest.setTimeout(60_000);

describe('analytics query: hand-computed fixtures, tenant scope, CSV', () => {
  const suite = analyticsQuerySuite();
  const { tA, tB, ids, platform, viewerOf, route, query, json } = suite;

  it('answers hourly buckets with totals (a tenant caller, its own tenant only)', async () => {
    const answer = await json(
      {
        time_range: { from: iso(at(10)), to: iso(at(12)) },
        granularity: '1h',
        group_by: ['currency'],
        metrics: [
          'payments_attempted',
          'payments_succeeded',
          'payments_failed',
          'payments_declined',
          'success_rate',
          'gross_volume',
          'average_ticket',
          'transfer_volume',
        ],
      },
      viewerOf(tA),
    );
    const m = (
      a: number,
      s: number,
      f: number,
      d: number,
      rate: number,
      g: number,
      avg: number | null,
      tv: number,
    ) => ({
      payments_attempted: a,
      payments_succeeded: s,
      payments_failed: f,
      payments_declined: d,
      success_rate: rate,
      gross_volume: g,
      average_ticket: avg,
      transfer_volume: tv,
    });
    expect(answer.buckets).toEqual([
      {
        start: iso(at(10)),
        end: iso(at(11)),
        group: { currency: 'jpy' },
        metrics: m(1, 1, 0, 0, 1, 1_000, 1_000, 0),
      },
      {
        start: iso(at(10)),
        end: iso(at(11)),
        group: { currency: 'usd' },
        metrics: m(2, 1, 1, 1, 0.5, 10_000, 10_000, 7_000),
      },
      {
        start: iso(at(11)),
        end: iso(at(12)),
        group: { currency: 'usd' },
        metrics: m(2, 1, 1, 0, 0.5, 2_001, 2_001, 0),
      },
    ]);
    // 12 001 / 2 = 6 000.5, rounded half up; tenant B's 99 999 never appears.
    expect(answer.totals).toEqual([
      { group: { currency: 'jpy' }, metrics: m(1, 1, 0, 0, 1, 1_000, 1_000, 0) },
      { group: { currency: 'usd' }, metrics: m(4, 2, 2, 1, 0.5, 12_001, 6_001, 7_000) },
    ]);
  });

  const dailyMetrics = [
    'payments_attempted',
    'gross_volume',
    'fees_collected',
    'fees_refunded',
    'net_platform_revenue',
    'refunds_count',
    'refunds_amount',
    'disputes_count',
    'disputes_amount',
    'transfer_volume',
  ];
  const daily = (
    a: number,
    g: number,
    fc: number,
    fr: number,
    rc: number,
    ra: number,
    dc: number,
    da: number,
    tv: number,
  ) => ({
    payments_attempted: a,
    gross_volume: g,
    fees_collected: fc,
    fees_refunded: fr,
    net_platform_revenue: fc - fr,
    refunds_count: rc,
    refunds_amount: ra,
    disputes_count: dc,
    disputes_amount: da,
    transfer_volume: tv,
  });

  it('answers daily buckets: refunds, disputes and fee refunds in the day they happened', async () => {
    const answer = await json({
      time_range: { from: iso(at(0)), to: iso(at(48)) },
      granularity: '1d',
      filters: { tenant_id: [tA], currency: ['usd'] },
      metrics: dailyMetrics,
    });
    expect(answer.buckets).toEqual([
      {
        start: iso(at(0)),
        end: iso(at(24)),
        group: {},
        metrics: daily(4, 12_001, 408, 0, 0, 0, 0, 0, 7_000),
      },
      {
        start: iso(at(24)),
        end: iso(at(48)),
        group: {},
        metrics: daily(2, 4_000, 146, 160, 1, 5_000, 1, 2_001, 0),
      },
    ]);
    expect(answer.totals).toEqual([
      { group: {}, metrics: daily(6, 16_001, 554, 160, 1, 5_000, 1, 2_001, 7_000) },
    ]);
  });

  it('answers a total over a range that is not whole days (daily rollup inside, hourly at the edges)', async () => {
    const answer = await json({
      time_range: { from: iso(at(11)), to: iso(at(49)) },
      granularity: 'total',
      group_by: ['tenant_id', 'currency'],
      filters: { tenant_id: [tA, tB] },
      metrics: [
        'payments_attempted',
        'payments_succeeded',
        'gross_volume',
        'refunds_amount',
        'fees_refunded',
        'disputes_amount',
      ],
    });
    const total = (a: number, s: number, g: number, ra: number, fr: number, da: number) => ({
      payments_attempted: a,
      payments_succeeded: s,
      gross_volume: g,
      refunds_amount: ra,
      fees_refunded: fr,
      disputes_amount: da,
    });
    const [first, second] = [tA, tB].sort();
    const byTenant = { [tA]: total(5, 2, 6_001, 5_000, 160, 2_001), [tB]: total(1, 1, 500, 0, 0, 0) };
    expect(answer.buckets).toEqual(
      [first, second].map((tenant) => ({
        start: iso(at(11)),
        end: iso(at(49)),
        group: { tenant_id: tenant, currency: 'usd' },
        metrics: byTenant[tenant],
      })),
    );
    expect(answer.totals.map((x) => x.metrics)).toEqual([byTenant[first], byTenant[second]]);
  });

  it("never shows a tenant another tenant's numbers, and refuses to be pointed at one", async () => {
    const mine = await json(
      {
        time_range: { from: iso(at(0)), to: iso(at(72)) },
        granularity: 'total',
        group_by: ['tenant_id', 'stripe_account_id', 'currency'],
        metrics: ['payments_attempted', 'gross_volume'],
      },
      viewerOf(tB),
    );
    expect(mine.buckets).toEqual([
      {
        start: iso(at(0)),
        end: iso(at(72)),
        group: { tenant_id: tB, stripe_account_id: 'acct_fixture_b', currency: 'usd' },
        metrics: { payments_attempted: 2, gross_volume: 100_499 },
      },
    ]);
    const res = await query(
      {
        time_range: { from: iso(at(0)), to: iso(at(72)) },
        granularity: 'total',
        filters: { tenant_id: [tA] },
        metrics: ['payments_attempted'],
      },
      viewerOf(tB),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe(ErrorCode.Forbidden);
    const other = await query(
      {
        time_range: { from: iso(at(0)), to: iso(at(72)) },
        granularity: 'total',
        metrics: ['payments_attempted'],
      },
      suite.t.token({ sub: 'no-scope', tenant_id: tB, roles: ['viewer'], scope: 'accounts:read' }),
    );
    expect(other.statusCode).toBe(403);
  });

  it('refuses amounts mixed across currencies, naming group_by; and other bad input naming the field', async () => {
    const range = { from: iso(at(0)), to: iso(at(48)) };
    const cases: [object, string][] = [
      [{ time_range: range, granularity: '1d', metrics: ['gross_volume'] }, 'group_by'],
      [
        {
          time_range: range,
          granularity: '1d',
          filters: { currency: ['usd', 'jpy'] },
          metrics: ['fees_collected'],
        },
        'group_by',
      ],
      [
        { time_range: range, granularity: 'total', group_by: ['tenant_id'], metrics: ['average_ticket'] },
        'group_by',
      ],
      [
        {
          time_range: { from: '2031-03-10T00:30:00Z', to: range.to },
          granularity: '1h',
          metrics: ['payments_attempted'],
        },
        'time_range.from',
      ],
      [
        {
          time_range: { from: range.to, to: range.from },
          granularity: '1d',
          metrics: ['payments_attempted'],
        },
        'time_range.to',
      ],
      [
        {
          time_range: { from: '2031-01-01T00:00:00Z', to: '2031-03-01T00:00:00Z' },
          granularity: '1h',
          metrics: ['payments_attempted'],
        },
        'time_range',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await query(body);
      expect(res.statusCode).toBe(400);
      const err = res.json();
      expect(err.code).toBe(ErrorCode.ValidationFailed);
      expect(err.details.fields.map((f: { field: string }) => f.field)).toEqual([field]);
    }
    for (const body of [
      { time_range: range, granularity: '1m', metrics: ['payments_attempted'] },
      { time_range: range, granularity: '1d', metrics: ['revenue'] },
      { time_range: range, granularity: '1d', metrics: [] },
      { time_range: range, granularity: '1d', group_by: ['country'], metrics: ['payments_attempted'] },
      { time_range: range, granularity: '1d', filters: { country: ['us'] }, metrics: ['payments_attempted'] },
      { time_range: { from: 'yesterday', to: range.to }, granularity: '1d', metrics: ['payments_attempted'] },
    ]) {
      const res = await query(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe(ErrorCode.ValidationFailed);
    }
    // One currency filtered: amounts are fine without grouping.
    expect(
      (
        await query({
          time_range: range,
          granularity: '1d',
          filters: { currency: ['jpy'] },
          metrics: ['gross_volume'],
        })
      ).statusCode,
    ).toBe(200);
  });

  it('answers RFC 4180 CSV: a header row, one row per bucket, quoted fields', async () => {
    const body = {
      time_range: { from: iso(at(10)), to: iso(at(12)) },
      granularity: '1h',
      group_by: ['currency', 'routing_rule'],
      filters: { tenant_id: [tA] },
      metrics: ['payments_attempted', 'success_rate', 'gross_volume'],
    };
    const res = await query(body, platform(), 'text/csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(res.body);
    expect(res.body).toContain('"eu, ""premium"""');
    expect(rows[0]).toEqual([
      'start',
      'end',
      'currency',
      'routing_rule',
      'payments_attempted',
      'success_rate',
      'gross_volume',
    ]);
    const fromJson = await json(body);
    expect(rows.slice(1)).toEqual(
      fromJson.buckets.map((b) => [
        b.start,
        b.end,
        b.group.currency ?? '',
        b.group.routing_rule ?? '',
        String(b.metrics.payments_attempted),
        b.metrics.success_rate === null ? '' : String(b.metrics.success_rate),
        String(b.metrics.gross_volume),
      ]),
    );
    expect(rows.slice(1).map((r) => r[3])).toEqual(['', '', 'eu, "premium"', '']);
  });

  it('moves a contribution when a route changes or goes, and the rebuild recounts what was corrupted', async () => {
    const body = {
      time_range: { from: iso(at(0)), to: iso(at(48)) },
      granularity: '1d',
      filters: { tenant_id: [tA], currency: ['usd'] },
      metrics: dailyMetrics,
    };
    const before = await json(body);
    await suite.ds
      .getRepository(PaymentRouteEntity)
      .update({ id: ids.p4 }, { status: PaymentRouteStatus.Completed });
    const moved = await json(body);
    expect(moved.buckets[0].metrics.gross_volume).toBe(12_001 + 3_000);
    expect(moved.buckets[0].metrics.fees_collected).toBe(408 + 117);
    await suite.ds
      .getRepository(PaymentRouteEntity)
      .update({ id: ids.p4 }, { status: PaymentRouteStatus.Failed });
    await suite.ds.getRepository(PaymentRouteEntity).delete({ id: ids.r1 });
    expect((await json(body)).buckets[1].metrics.refunds_amount).toBe(0);
    await route('r1', {
      tenant_id: tA,
      stripe_account_id: 'acct_fixture_a',
      type: PaymentRouteType.Refund,
      status: PaymentRouteStatus.Completed,
      amount: 5_000,
      created_at: at(32, 30),
    });
    expect(await json(body)).toEqual(before);

    // The platform-wide rollups (no tenant in the query) answer the same numbers, before and after the fold.
    const platformBody = {
      time_range: { from: iso(at(0)), to: iso(at(72)) },
      granularity: 'total',
      group_by: ['currency'],
      metrics: ['payments_attempted', 'gross_volume'],
    };
    const platformWide = [
      { group: { currency: 'jpy' }, metrics: { payments_attempted: 1, gross_volume: 1_000 } },
      { group: { currency: 'usd' }, metrics: { payments_attempted: 9, gross_volume: 116_500 } },
    ];
    expect((await json(platformBody)).totals).toEqual(platformWide);
    // Folding the deltas into the rollups changes no answer.
    expect(await suite.t.app.get(AnalyticsService).fold()).toBeGreaterThan(0);
    expect((await json(platformBody)).totals).toEqual(platformWide);
    expect(
      (
        await suite.ds.query(`SELECT count(*)::int AS n FROM analytics_rollup_deltas WHERE tenant_id = $1`, [
          tA,
        ])
      )[0].n,
    ).toBe(0);
    expect(await json(body)).toEqual(before);

    await suite.ds.query(
      `UPDATE analytics_rollups_daily SET gross_volume = gross_volume + 999 WHERE tenant_id = $1`,
      [tA],
    );
    await suite.ds.query(`DELETE FROM analytics_rollups_hourly WHERE tenant_id = $1`, [tA]);
    expect(await json(body)).not.toEqual(before);
    const result = await suite.t.app.get(AnalyticsService).rebuild(at(5));
    expect(result.since).toBe(iso(at(0)));
    expect(await json(body)).toEqual(before);
    expect(
      (await json({ ...body, granularity: '1h', time_range: { from: iso(at(10)), to: iso(at(12)) } }))
        .buckets,
    ).toHaveLength(2);
  });
});

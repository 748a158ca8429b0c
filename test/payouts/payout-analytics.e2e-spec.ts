import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { platformToken } from '../support/factory';
import { connectVerifiedTenant, paidRoute, runPayouts } from './money-support';

jest.setTimeout(180_000);

interface Answer {
  buckets: Array<{ group: Record<string, string | null>; metrics: Record<string, number | null> }>;
  totals: Array<{ group: Record<string, string | null>; metrics: Record<string, number | null> }>;
}

const HOUR = 3_600_000;

describe('payouts in the analytics query', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootTestApp({}, undefined, { listen: true, registerWebhooks: true });
  });
  afterAll(async () => t?.close());

  const call = <T>(method: string, path: string, body?: unknown) =>
    api(t)<T>(method, path, { token: platformToken(t), body });

  it('counts payouts, the amount paid out and the failures, beside the route metrics', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'pan');
    await paidRoute(t, tenant, 6_000, 'direct');
    const paid = { payouts: await runPayouts(t, acct, 'paid') };
    await paidRoute(t, tenant, 4_000, 'direct');
    const failing = { payouts: await runPayouts(t, acct, 'in_transit') };
    await emulatorControl(t.emulatorUrl!, `/payouts/${failing.payouts[0].id}/advance`, {
      to: 'failed',
      failure_code: 'account_closed',
    });
    await eventually('both payouts stored', async () => {
      const list = await call<{ data: Array<{ status: string }> }>(
        'GET',
        `/connect/accounts/${tenant}/payouts`,
      );
      const statuses = list.body.data.map((p) => p.status).sort();
      return statuses.join() === 'failed,paid' ? statuses : null;
    });

    const now = Date.now();
    const time_range = {
      from: new Date(Math.floor(now / HOUR) * HOUR - HOUR).toISOString(),
      to: new Date(Math.ceil(now / HOUR) * HOUR + HOUR).toISOString(),
    };
    const body = {
      time_range,
      granularity: 'total',
      metrics: ['payouts_count', 'payouts_volume', 'payouts_failed', 'payments_succeeded'],
      group_by: ['currency'],
      filters: { tenant_id: [tenant] },
    };
    const answer = await call<Answer>('POST', '/connect/analytics/query', body);
    expect(answer.status).toBe(200);
    expect(answer.body.totals).toEqual([
      {
        group: { currency: 'usd' },
        metrics: {
          payouts_count: 2,
          payouts_volume: paid.payouts[0].amount,
          payouts_failed: 1,
          payments_succeeded: 2,
        },
      },
    ]);
    expect(paid.payouts[0].amount).toBeGreaterThan(0);

    // Hourly buckets add up to the total; a filter on a route's dimension matches no payout.
    const hourly = await call<Answer>('POST', '/connect/analytics/query', {
      ...body,
      granularity: '1h',
      metrics: ['payouts_count'],
    });
    expect(hourly.body.buckets.reduce((s, b) => s + (b.metrics.payouts_count ?? 0), 0)).toBe(2);
    const direct = await call<Answer>('POST', '/connect/analytics/query', {
      ...body,
      filters: { tenant_id: [tenant], charge_type: ['direct'] },
    });
    expect(direct.body.totals).toEqual([
      {
        group: { currency: 'usd' },
        metrics: { payouts_count: 0, payouts_volume: 0, payouts_failed: 0, payments_succeeded: 2 },
      },
    ]);
  });
});

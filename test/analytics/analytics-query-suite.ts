import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ChargeType, PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';

/** A day of its own, far from what other suites write, so every number below is computed by hand. */
export const D = Date.UTC(2031, 2, 10);
export const H = 3_600_000;
export const at = (hours: number, minutes = 0): Date => new Date(D + hours * H + minutes * 60_000);
export const unix = (d: Date): number => Math.floor(d.getTime() / 1000);
export const iso = (d: Date): string => d.toISOString();

export interface Answer {
  buckets: {
    start: string;
    end: string;
    group: Record<string, string | null>;
    metrics: Record<string, number | null>;
  }[];
  totals: { group: Record<string, string | null>; metrics: Record<string, number | null> }[];
}

/** The suite's world: two tenants with hand-made routes on that day, and a caller for the query endpoint. */
export function analyticsQuerySuite() {
  let t: TestApp;
  let ds: DataSource;
  const tA = uniqueTenant('ana_a');
  const tB = uniqueTenant('ana_b');
  const ids: Record<string, string> = {};
  const platform = (): string => t.token({ sub: 'platform-backend', roles: ['platform'] });
  const viewerOf = (tenant: string): string =>
    t.token({ sub: `viewer-${tenant}`, tenant_id: tenant, roles: ['viewer'], scope: 'payments:read' });

  async function route(name: string, r: Partial<PaymentRouteEntity>): Promise<void> {
    const id = randomUUID();
    ids[name] = id;
    await ds.getRepository(PaymentRouteEntity).insert({
      id,
      type: PaymentRouteType.Payment,
      charge_type: ChargeType.Direct,
      currency: 'usd',
      fee: 0,
      stripe_idempotency_key: `route:${id}:fixture`,
      stripe_details: {},
      metadata: {},
      ...r,
    } as QueryDeepPartialEntity<PaymentRouteEntity>);
  }

  async function query(body: object, token = platform(), accept?: string) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/connect/analytics/query',
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
      payload: body,
    });
    return res;
  }
  const json = async (body: object, token?: string): Promise<Answer> => {
    const res = await query(body, token);
    expect(res.statusCode).toBe(200);
    return res.json<Answer>();
  };

  beforeAll(async () => {
    t = await bootTestApp();
    ds = t.app.get(DataSource);
    const A = { tenant_id: tA, stripe_account_id: 'acct_fixture_a' };
    const B = { tenant_id: tB, stripe_account_id: 'acct_fixture_b' };
    const ok = PaymentRouteStatus.Completed;
    await route('p1', {
      ...A,
      status: ok,
      amount: 10_000,
      fee: 320,
      created_at: at(10, 15),
      routing_rule: 'eu, "premium"',
    });
    await route('p2', {
      ...A,
      status: PaymentRouteStatus.Failed,
      amount: 5_000,
      fee: 175,
      created_at: at(10, 45),
      stripe_details: { declined: true },
    });
    await route('p3', { ...A, status: ok, amount: 2_001, fee: 88, created_at: at(11, 5) });
    await route('p4', {
      ...A,
      status: PaymentRouteStatus.Failed,
      amount: 3_000,
      fee: 117,
      created_at: at(11, 30),
    });
    await route('p5', { ...A, status: ok, amount: 4_000, fee: 146, created_at: at(24, 10) });
    await route('p6', {
      ...A,
      status: PaymentRouteStatus.Canceled,
      amount: 1_000,
      fee: 59,
      created_at: at(27),
    });
    await route('p10', {
      ...A,
      status: PaymentRouteStatus.Pending,
      amount: 700,
      fee: 50,
      created_at: at(48, 30),
    });
    await route('r1', {
      ...A,
      type: PaymentRouteType.Refund,
      status: ok,
      amount: 5_000,
      parent_id: null,
      created_at: at(32, 30),
    });
    await route('r2', {
      ...A,
      type: PaymentRouteType.Refund,
      status: PaymentRouteStatus.Failed,
      amount: 1_000,
      created_at: at(36),
    });
    await route('t1', {
      ...A,
      type: PaymentRouteType.Transfer,
      status: ok,
      amount: 7_000,
      created_at: at(10, 20),
    });
    await route('p7', {
      ...A,
      charge_type: ChargeType.Destination,
      currency: 'jpy',
      status: ok,
      amount: 1_000,
      fee: 59,
      created_at: at(10, 30),
    });
    await route('p8', { ...B, status: ok, amount: 99_999, fee: 1_000, created_at: at(10, 10) });
    await route('p9', { ...B, status: ok, amount: 500, fee: 45, created_at: at(47, 30) });
    // Facts that arrive later, as the webhook handlers record them: a dispute and a fee refund, each at its own time.
    await ds.getRepository(PaymentRouteEntity).update(
      { id: ids.p3 },
      {
        stripe_details: {
          dispute: { id: 'du_1', amount: 2_001, opened_at: unix(at(38, 20)), created: unix(at(38, 21)) },
        },
      },
    );
    await ds.getRepository(PaymentRouteEntity).update(
      { id: ids.p1 },
      {
        stripe_details: {
          application_fee: {
            id: 'fee_1',
            amount: 320,
            amount_refunded: 160,
            created: unix(at(32, 31)),
            refunds: [{ id: 'fr_1', amount: 160, created: unix(at(32, 30)) }],
          },
        },
      },
    );
  });
  afterAll(async () => t?.close());

  return {
    get t(): TestApp {
      return t;
    },
    get ds(): DataSource {
      return ds;
    },
    tA,
    tB,
    ids,
    platform,
    viewerOf,
    route,
    query,
    json,
  };
}

import { DataSource } from 'typeorm';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { runPayouts } from './money-support';

jest.setTimeout(180_000);

/**
 * The platform's payouts (payout.* without `account`) go to the platform's bank: no tenant's business, so they are
 * settled ignored rather than left unmatched (docs/money-out.md).
 */
describe("the platform's own payouts", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootTestApp({}, undefined, { listen: true, registerWebhooks: true });
  });
  afterAll(async () => t?.close());

  const stripe = async <T>(method: string, path: string, form?: Record<string, string>): Promise<T> => {
    const res = await fetch(`${t.emulatorUrl}${path}`, {
      method,
      headers: {
        authorization: 'Bearer sk_test_platform_payouts',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return (await res.json()) as T;
  };

  it('are settled ignored (outcome platform_ignored), counted, and never recorded under a tenant', async () => {
    const platform = await stripe<{ id: string }>('GET', '/v1/account');
    // A charge of the platform's own, so its balance has something to pay out.
    await stripe('POST', '/v1/payment_intents', {
      amount: '5000',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
    });
    const [payout] = await runPayouts(t, platform.id, 'paid');
    expect(payout.amount).toBeGreaterThan(0);

    const ds = t.app.get(DataSource);
    const rows = await eventually(
      'the platform payout events settled',
      async () => {
        const found = (await ds.query(
          `SELECT type, status, outcome, tenant_id FROM stripe_webhook_events
            WHERE stripe_account_id IS NULL AND payload->'data'->'object'->>'id' = $1 ORDER BY type`,
          [payout.id],
        )) as Array<{ type: string; status: string; outcome: string | null; tenant_id: string | null }>;
        return found.length >= 3 && found.every((r) => r.status !== 'received') ? found : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(new Set(rows.map((r) => r.type))).toEqual(
      new Set(['payout.created', 'payout.updated', 'payout.paid']),
    );
    for (const r of rows)
      expect(r).toMatchObject({ status: 'ignored', outcome: 'platform_ignored', tenant_id: null });
    const recorded = (await ds.query(`SELECT count(*)::int AS n FROM payouts WHERE stripe_payout_id = $1`, [
      payout.id,
    ])) as Array<{ n: number }>;
    expect(recorded[0].n).toBe(0);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /stripe_webhook_events_total\{type="payout.paid",outcome="platform_ignored"\} [1-9]/,
    );
  });
});

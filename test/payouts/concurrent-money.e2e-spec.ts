import { ErrorCode } from '@app/common';
import { StripeGateway } from '@app/stripe-gateway';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { platformToken } from '../support/factory';
import { availableUsd, connectVerifiedTenant, eventTypes, paidRoute } from './money-support';

jest.setTimeout(180_000);

interface Answer {
  id: string;
  status: string;
  stripe_payout_id: string;
  stripe_dispute_id: string;
  evidence_submitted: boolean;
  code?: string;
}

describe('concurrent operations on one payout or dispute', () => {
  let t: TestApp;
  let gateway: StripeGateway;

  beforeAll(async () => {
    t = await bootTestApp({ BALANCE_CACHE_SECONDS: '0' }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
    gateway = t.app.get(StripeGateway);
  });
  afterAll(async () => t?.close());

  const call = (method: string, path: string, body?: unknown) =>
    api(t)<Answer>(method, path, { token: platformToken(t), body });

  /** The emulator's log of POSTs to exactly `path`. */
  async function postsTo(path: string): Promise<number> {
    const data = await emulatorRequests(t.emulatorUrl!, { path, method: 'POST' });
    return data.filter((r) => r.path === path).length;
  }

  it('two cancels of one payout at once: one Stripe call, the same answer, the money back once', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'pcc');
    await paidRoute(t, tenant, 5_000, 'direct');
    expect(
      (await call('PUT', `/connect/accounts/${tenant}`, { payout_schedule: { interval: 'manual' } })).status,
    ).toBe(200);
    const available = await availableUsd(t, acct);
    const created = await call('POST', `/connect/accounts/${tenant}/payouts`, {
      amount: 2_000,
      currency: 'usd',
    });
    expect(created.status).toBe(201);
    expect(await availableUsd(t, acct)).toBe(available - 2_000);

    const [one, two] = await Promise.all([
      call('POST', `/connect/payouts/${created.body.id}/cancel`),
      call('POST', `/connect/payouts/${created.body.id}/cancel`),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.body.status).toBe('canceled');
    expect(two.body).toEqual(one.body);
    expect(await postsTo(`/v1/payouts/${created.body.stripe_payout_id}/cancel`)).toBe(1);
    expect((await gateway.listPayouts({ limit: 10 }, { stripeAccount: acct })).data[0]).toMatchObject({
      id: created.body.stripe_payout_id,
      status: 'canceled',
    });
    expect(await availableUsd(t, acct)).toBe(available);
    await eventually('one canceled event', async () => {
      const types = (await eventTypes(t, tenant)).map((e) => e.type);
      return types.includes('connect.payout.canceled') ? types : null;
    });
    const types = (await eventTypes(t, tenant)).map((e) => e.type);
    expect(types.filter((x) => x === 'connect.payout.canceled')).toHaveLength(1);
  });

  it('two evidence submissions at once: one Stripe update, the same answer; other evidence is then refused', async () => {
    const { tenant, acct } = await connectVerifiedTenant(t, 'dcc');
    const route = await paidRoute(t, tenant, 4_000, 'direct');
    await emulatorControl(t.emulatorUrl!, `/charges/${route.charge}/dispute`, { reason: 'fraudulent' });
    const d = await eventually(
      'the dispute',
      async () =>
        (
          await api(t)<{ data: Answer[] }>('GET', `/connect/disputes?tenant_id=${tenant}`, {
            token: platformToken(t),
          })
        ).body.data[0],
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(d.status).toBe('needs_response');

    const body = {
      evidence: { customer_name: 'Jenny Rosen', product_description: 'A blue mug' },
      submit: true,
    };
    const [one, two] = await Promise.all([
      call('POST', `/connect/disputes/${d.id}/evidence`, body),
      call('POST', `/connect/disputes/${d.id}/evidence`, body),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.body).toMatchObject({
      status: 'under_review',
      evidence_submitted: true,
      evidence: body.evidence,
    });
    expect(two.body).toEqual(one.body);
    expect(await postsTo(`/v1/disputes/${d.stripe_dispute_id}`)).toBe(1);
    const atStripe = await gateway.money.retrieveDispute(d.stripe_dispute_id, { stripeAccount: acct });
    expect(atStripe.evidence_details.submission_count).toBe(1);

    const other = await call('POST', `/connect/disputes/${d.id}/evidence`, {
      evidence: { customer_name: 'Someone else' },
      submit: true,
    });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe(ErrorCode.DisputeNotOpen);
    expect(await postsTo(`/v1/disputes/${d.stripe_dispute_id}`)).toBe(1);
  });
});

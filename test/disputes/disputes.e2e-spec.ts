import { ErrorCode } from '@app/common';
import { StripeGateway } from '@app/stripe-gateway';
import { DisputeRemindersService } from '../../apps/connect-service/src/disputes/dispute-reminders.service';
import { api } from '../support/http';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';
import { emulatorControl } from '../support/emulator';
import { platformToken } from '../support/factory';
import { availableUsd, connectVerifiedTenant, eventTypes, paidRoute } from '../payouts/money-support';

jest.setTimeout(180_000);

const DISPUTE_FEE = 1500;

interface Dispute {
  id: string;
  stripe_dispute_id: string;
  payment_id: string | null;
  amount: number;
  status: string;
  liable: string;
  evidence_due_by: string | null;
  evidence_submitted: boolean;
  funds_withdrawn: number;
  funds_reinstated: number;
  dispute_fee: number;
  recovery: {
    status: string;
    transfer_id: string | null;
    reversed_amount: number;
    returned_amount: number;
    failure_code: string | null;
    failure_reason: string | null;
    movements: Array<{ step: string; amount: number; stripe_id: string }>;
  };
  evidence?: Record<string, string | null>;
  code?: string;
}

describe('disputes worked to the end, against the emulator', () => {
  let a: TestApp;
  let b: TestApp;
  let gateway: StripeGateway;

  beforeAll(async () => {
    const schema = `jobs_${Math.random().toString(36).slice(2, 10)}`;
    // A reminder 200 h ahead: due at once for the emulator's 7-day deadlines; 24 h: not yet.
    const reminders = { DISPUTE_EVIDENCE_REMINDER_HOURS: '200,24' };
    a = await bootTestApp({ JOB_QUEUE_SCHEMA: schema, ...reminders }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
    // A second replica on the same database and queue, registered at the same emulator: every event reaches both.
    b = await bootTestApp(
      {
        JOB_QUEUE_SCHEMA: schema,
        STRIPE_SECRET_KEY: 'sk_test_emulator',
        STRIPE_API_BASE: a.emulatorUrl,
        ...reminders,
      },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    gateway = a.app.get(StripeGateway);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const get = (path: string) =>
    api(a)<Dispute & { data: Dispute[] }>('GET', path, { token: platformToken(a) });
  const post = (path: string, body: unknown, app = a) =>
    api(app)<Dispute>('POST', path, { token: platformToken(app), body });

  async function disputeOf(tenant: string, pred: (d: Dispute) => boolean, what: string): Promise<Dispute> {
    let last: Dispute | undefined;
    try {
      return await eventually(
        what,
        async () => {
          const list = await get(`/connect/disputes?tenant_id=${tenant}`);
          last = list.body.data?.[0];
          return last && pred(last) ? last : null;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; the dispute: ${JSON.stringify(last)}`);
    }
  }

  async function redeliver(type: string, stripeDisputeId: string, stripeAccount?: string): Promise<void> {
    const { data } = await emulatorControl<{ data: Array<{ event_id: string; event_type: string }> }>(
      a.emulatorUrl!,
      `/webhooks/deliveries?type=${type}`,
      undefined,
      'GET',
    );
    const events = await gateway.listEvents({
      types: [type],
      limit: 100,
      ...(stripeAccount ? { stripeAccount } : {}),
    });
    const event = events.data.find((e) => (e.data.object as { id: string }).id === stripeDisputeId);
    expect(event).toBeDefined();
    expect(data.filter((d) => d.event_id === event!.id).length).toBeGreaterThanOrEqual(2);
    await emulatorControl(a.emulatorUrl!, `/events/${event!.id}/redeliver`, { times: 3, concurrent: true });
  }

  it('destination charge: the platform is debited, the transfer reversed once, and given back once when won', async () => {
    const { tenant, acct } = await connectVerifiedTenant(a, 'dsp');
    const route = await paidRoute(a, tenant, 10_000, 'destination');
    const charge = await gateway.retrieveCharge(route.charge);
    const transfer = await gateway.retrieveTransfer(charge.transfer as string);
    // The platform's own sale, so its balance can pay the dispute before the reversal arrives (as a live one would).
    await gateway.createPaymentIntent(
      { amount: 50_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey: `platform-sale-${tenant}` },
    );
    const platformBefore = await availableUsd(a);
    const tenantBefore = await availableUsd(a, acct);

    await emulatorControl(a.emulatorUrl!, `/charges/${route.charge}/dispute`, {});
    const reversed = await disputeOf(
      tenant,
      (d) => d.recovery.status === 'reversed',
      'the reversal recorded',
    );
    const expected = Math.min(10_000, transfer.amount);
    expect(reversed).toMatchObject({
      payment_id: route.id,
      amount: 10_000,
      status: 'needs_response',
      liable: 'platform',
      funds_withdrawn: 10_000,
      dispute_fee: DISPUTE_FEE,
      recovery: { status: 'reversed', transfer_id: transfer.id, reversed_amount: expected },
    });
    expect(reversed.evidence_due_by).not.toBeNull();

    // Every delivery again, three at once, on top of the two endpoints: still one reversal at Stripe.
    await redeliver('charge.dispute.funds_withdrawn', reversed.stripe_dispute_id);
    await redeliver('charge.dispute.created', reversed.stripe_dispute_id);
    await new Promise((r) => setTimeout(r, 1500));
    const reversals = await gateway.listTransferReversals(transfer.id);
    expect(reversals.data).toHaveLength(1);
    expect(reversals.data[0].amount).toBe(expected);
    // The platform paid the dispute and its fee, and got the reversal; the tenant gave the reversal.
    expect(await availableUsd(a)).toBe(platformBefore - 10_000 - DISPUTE_FEE + expected);
    expect(await availableUsd(a, acct)).toBe(tenantBefore - expected);

    await emulatorControl(a.emulatorUrl!, `/disputes/${reversed.stripe_dispute_id}/close`, {
      outcome: 'won',
    });
    const returned = await disputeOf(
      tenant,
      (d) => d.recovery.status === 'returned',
      'the amount given back',
    );
    expect(returned).toMatchObject({
      status: 'won',
      funds_reinstated: 10_000,
      recovery: { returned_amount: expected },
    });
    await redeliver('charge.dispute.closed', reversed.stripe_dispute_id);
    await redeliver('charge.dispute.funds_reinstated', reversed.stripe_dispute_id);
    await new Promise((r) => setTimeout(r, 1500));
    const back = (await gateway.listTransfers({ destination: acct, limit: 100 })).data.filter(
      (tr) => tr.metadata?.dispute === reversed.stripe_dispute_id,
    );
    expect(back).toHaveLength(1);
    expect(back[0].amount).toBe(expected);
    const final = (await get(`/connect/disputes/${reversed.id}`)).body;
    expect(final.recovery.movements.map((m) => [m.step, m.amount])).toEqual([
      ['reverse', expected],
      ['return', expected],
    ]);
    // Won: the platform has the amount back (not the fee) and passed the recovery on; the tenant is whole again.
    expect(await availableUsd(a)).toBe(platformBefore - DISPUTE_FEE);
    expect(await availableUsd(a, acct)).toBe(tenantBefore);
    const types = (await eventTypes(a, tenant)).map((e) => e.type);
    expect(types.filter((x) => x === 'connect.dispute.created')).toHaveLength(1);
    expect(types.filter((x) => x === 'connect.dispute.closed')).toHaveLength(1);
  });

  it("direct charge: the dispute is the tenant's, nothing is reversed; evidence saved, submitted, then refused", async () => {
    const { tenant, acct } = await connectVerifiedTenant(a, 'dsd');
    const route = await paidRoute(a, tenant, 5_000, 'direct');
    const platformBefore = await availableUsd(a);
    const tenantBefore = await availableUsd(a, acct);
    await emulatorControl(a.emulatorUrl!, `/charges/${route.charge}/dispute`, {
      reason: 'product_not_received',
    });
    const d = await disputeOf(tenant, (x) => x.funds_withdrawn === 5_000, 'the direct dispute debited');
    expect(d).toMatchObject({
      liable: 'tenant',
      status: 'needs_response',
      recovery: { status: 'not_applicable' },
    });
    expect(await availableUsd(a, acct)).toBe(tenantBefore - 5_000 - DISPUTE_FEE);
    expect(await availableUsd(a)).toBe(platformBefore);
    expect((await gateway.listTransfers({ destination: acct, limit: 100 })).data).toHaveLength(0);
    // One payment, one dispute: the tenant's rate is 1 and the alert's threshold is published beside it.
    const metrics = (await api(a)('GET', '/metrics')).raw;
    expect(metrics).toContain(`connect_tenant_dispute_rate{tenant_id="${tenant}",currency="usd"} 1`);
    expect(metrics).toMatch(/connect_dispute_rate_alert_threshold 0\.0075/);

    const draft = await post(`/connect/disputes/${d.id}/evidence`, {
      evidence: { customer_name: 'Jenny Rosen' },
      submit: false,
    });
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({
      status: 'needs_response',
      evidence: { customer_name: 'Jenny Rosen' },
    });
    const submitted = await post(`/connect/disputes/${d.id}/evidence`, {
      shipping_tracking_number: '1Z999AA10123456784',
      submit: true,
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({
      status: 'under_review',
      evidence_submitted: true,
      evidence: { customer_name: 'Jenny Rosen', shipping_tracking_number: '1Z999AA10123456784' },
    });
    const atStripe = await gateway.money.retrieveDispute(d.stripe_dispute_id, { stripeAccount: acct });
    expect(atStripe.status).toBe('under_review');
    expect(atStripe.evidence_details.submission_count).toBe(1);

    const again = await post(`/connect/disputes/${d.id}/evidence`, {
      customer_name: 'Someone else',
      submit: true,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe(ErrorCode.DisputeNotOpen);
    const unknown = await post(`/connect/disputes/${d.id}/evidence`, { not_a_field: 'x' });
    expect(unknown.status).toBe(400);
    // A late created event (older than what is applied) never moves the dispute back.
    await redeliver('charge.dispute.created', d.stripe_dispute_id, acct);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await get(`/connect/disputes/${d.id}`)).body.status).toBe('under_review');
  });

  it('refuses evidence after the deadline; accept closes the dispute as lost', async () => {
    const { tenant, acct } = await connectVerifiedTenant(a, 'dse');
    const first = await paidRoute(a, tenant, 3_000, 'direct');
    await emulatorControl(a.emulatorUrl!, `/charges/${first.charge}/dispute`, {});
    const d = await disputeOf(tenant, () => true, 'the dispute');
    // Both replicas sweep at once: the reminder goes out once.
    await Promise.all([a, b].map((app) => app.app.get(DisputeRemindersService).run()));
    await a.app.get(DisputeRemindersService).run();
    const reminders = (await eventTypes(a, tenant)).filter((e) => e.type === 'connect.dispute.evidence_due');
    expect(reminders).toHaveLength(1);
    expect(reminders[0].data).toMatchObject({
      stripe_dispute_id: d.stripe_dispute_id,
      hours_before_deadline: 200,
    });
    await emulatorControl(a.emulatorUrl!, `/disputes/${d.stripe_dispute_id}/expire`, {});
    await disputeOf(
      tenant,
      (x) => x.evidence_due_by !== null && Date.parse(x.evidence_due_by) < Date.now(),
      'the deadline passed',
    );
    const late = await post(`/connect/disputes/${d.id}/evidence`, { customer_name: 'Late', submit: true });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe(ErrorCode.DisputeNotOpen);

    const second = await paidRoute(a, tenant, 2_000, 'direct');
    await emulatorControl(a.emulatorUrl!, `/charges/${second.charge}/dispute`, {});
    const open = await eventually('the second dispute', async () => {
      const list = await get(`/connect/disputes?tenant_id=${tenant}&status=needs_response`);
      return list.body.data.find((x) => x.payment_id === second.id) ?? null;
    });
    const accepted = await post(`/connect/disputes/${open.id}/accept`, {});
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('lost');
    expect(
      (await gateway.money.retrieveDispute(open.stripe_dispute_id, { stripeAccount: acct })).status,
    ).toBe('lost');
    const closedAgain = await post(`/connect/disputes/${open.id}/accept`, {});
    expect(closedAgain.status).toBe(409);
    const soon = await get(
      `/connect/disputes?tenant_id=${tenant}&evidence_due_by[lt]=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(soon.body.data.map((x) => x.id)).toEqual([d.id]);
  });

  it('a tenant set to dispute_recovery none keeps its transfer; the setting reads back', async () => {
    const { tenant } = await connectVerifiedTenant(a, 'dsn');
    const put = await api(a)('PUT', `/connect/accounts/${tenant}`, {
      token: platformToken(a),
      body: { dispute_recovery: 'none' },
    });
    expect(put.status).toBe(200);
    expect(put.body.dispute_recovery).toBe('none');
    expect(
      (await api(a)('GET', `/connect/accounts/${tenant}`, { token: platformToken(a) })).body.dispute_recovery,
    ).toBe('none');
    const route = await paidRoute(a, tenant, 3_000, 'destination');
    await emulatorControl(a.emulatorUrl!, `/charges/${route.charge}/dispute`, {});
    const d = await disputeOf(tenant, (x) => x.funds_withdrawn === 3_000, 'the dispute debited');
    expect(d).toMatchObject({ liable: 'platform', recovery: { status: 'none', mode: 'none' } });
    const charge = await gateway.retrieveCharge(route.charge);
    expect((await gateway.listTransferReversals(charge.transfer as string)).data).toHaveLength(0);
  });

  it("a reversal Stripe refuses (the tenant's balance is short) leaves recovery failed with Stripe's reason, once", async () => {
    const { tenant, acct } = await connectVerifiedTenant(a, 'dsf');
    const route = await paidRoute(a, tenant, 4_000, 'destination');
    // The tenant's whole balance leaves in a payout: nothing is left to take back.
    await emulatorControl(a.emulatorUrl!, `/accounts/${acct}/payouts/run`, { until: 'paid' });
    expect(await availableUsd(a, acct)).toBe(0);
    await emulatorControl(a.emulatorUrl!, `/charges/${route.charge}/dispute`, {});
    const failed = await disputeOf(tenant, (d) => d.recovery.status === 'failed', 'the recovery failed');
    expect(failed.recovery.failure_code).toBe('balance_insufficient');
    expect(failed.recovery.failure_reason).toMatch(/insufficient funds/);
    const charge = await gateway.retrieveCharge(route.charge);
    expect((await gateway.listTransferReversals(charge.transfer as string)).data).toHaveLength(0);
    const events = await eventTypes(a, tenant);
    expect(events.filter((e) => e.type === 'connect.dispute.recovery_failed')).toHaveLength(1);
  });
});

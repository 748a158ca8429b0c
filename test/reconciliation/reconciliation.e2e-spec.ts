import { PaymentRouteEntity } from '@app/database';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { PHASES } from '../../apps/connect-service/src/reconciliation/reconciliation.engine';
import { RECONCILIATION_SCHEDULE_QUEUE } from '../../apps/connect-service/src/reconciliation/reconciliation.queues';
import { Item, reconciliationSuite, Run } from './reconciliation-suite';

jest.setTimeout(180_000);

/**
 * Reconciliation end to end: a seeded history across three tenants, one injected drift of every category, heals
 * through the webhook path, idempotent re-runs, a dry run, live traffic, and a job resumed after a stop. The
 * emulator runs beside the app (not inside it) so the app can be stopped and a new one booted on the same Stripe.
 */
describe('reconciliation against the emulator', () => {
  const s = reconciliationSuite();
  const {
    schema,
    tenants,
    seeded,
    splitShares,
    boot,
    control,
    api,
    pay,
    until,
    reconcile,
    reconcileTenants,
  } = s;
  const { itemsOf, windowNow, routeOf, eventsFor } = s;

  it('finds nothing on the clean history (210 payments, refunds, a split, a subscription, payouts)', async () => {
    const { runs, items, totals } = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(items).toEqual([]);
    expect(totals).toEqual({});
    for (const r of runs) expect(r.stripe_calls).toBeGreaterThan(5);
    const completed = (await s.ds.query(
      `SELECT count(*)::int AS n FROM connect_events WHERE type = 'connect.reconciliation.completed' AND data->>'run_id' = ANY($1)`,
      [runs.map((r) => r.id)],
    )) as { n: number }[];
    expect(completed[0].n).toBe(3);
    expect(
      await s.ds.query(`SELECT 1 FROM connect_events WHERE type = 'connect.reconciliation.drift_detected'`),
    ).toHaveLength(0);
  });

  const injected: Record<string, { category: string; status: string; object?: string; route?: string }> = {};
  let driftRuns: Run[];
  let secondRun: Item[];

  it('finds exactly the injected drifts, each in its category, and heals the safe ones', async () => {
    // payout_unlinked: the tenant's own charge (not through the platform) paid out with the rest.
    const own = await s.gateway.createPaymentIntent(
      { amount: 777, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { stripeAccount: s.A.acct },
    );
    const payouts = (await control(`accounts/${s.A.acct}/payouts/run`, { until: 'reconciled' })) as {
      payouts: { id: string }[];
    };
    expect(payouts.payouts).toHaveLength(1);
    const ownTxn = (
      await s.gateway.listBalanceTransactions({ payout: payouts.payouts[0].id }, { stripeAccount: s.A.acct })
    ).data.find((bt) => bt.source === own.latest_charge);
    injected.payout_unlinked = { category: 'payout_unlinked', status: 'mismatched', object: ownTxn!.id };

    await control('webhooks/pause');
    const a = seeded[s.A.id].filter((r) => r.status !== 'failed');
    const b = seeded[s.B.id].filter((r) => r.status !== 'failed');
    // missing_local: a direct charge made with the platform's fee behind the service's back.
    const stray = await s.gateway.createPaymentIntent(
      {
        amount: 4200,
        currency: 'usd',
        application_fee_amount: 100,
        payment_method: 'pm_card_visa',
        confirm: true,
        metadata: { tenant_id: s.A.id },
      },
      { stripeAccount: s.A.acct },
    );
    injected.missing_local = { category: 'missing_local', status: 'mismatched', object: stray.id };
    // missing_local, healed: a Dashboard refund we never recorded.
    const dashboardRefund = await s.gateway.createRefund(
      { payment_intent: a[10].payment_intent.id!, amount: 300 },
      { stripeAccount: s.A.acct },
    );
    injected.refund_recorded = {
      category: 'missing_local',
      status: 'healed',
      object: dashboardRefund.id,
      route: a[10].id,
    };
    // missing_stripe: a completed route Stripe never had.
    const ghost = await s.ds.getRepository(PaymentRouteEntity).save(
      s.ds.getRepository(PaymentRouteEntity).create({
        tenant_id: s.B.id,
        stripe_account_id: s.B.acct,
        type: 'payment' as never,
        status: 'completed' as never,
        charge_type: 'destination' as never,
        amount: 1500,
        fee: 68,
        currency: 'usd',
        stripe_payment_intent_id: 'pi_never_at_stripe_0001',
        stripe_idempotency_key: `route:ghost:${Date.now()}`,
        metadata: {},
        stripe_details: {},
      }),
    );
    injected.missing_stripe = { category: 'missing_stripe', status: 'mismatched', route: ghost.id };
    // amount and currency: edited at Stripe.
    await control(`objects/${a[11].payment_intent.id}`, { set: { amount: 1 } });
    injected.amount = { category: 'amount_mismatch', status: 'mismatched', route: a[11].id };
    await control(`objects/${b[11].payment_intent.id}`, { set: { currency: 'eur' } });
    injected.currency = { category: 'currency_mismatch', status: 'mismatched', route: b[11].id };
    // status, not safe: a completed payment whose PaymentIntent Stripe shows canceled.
    await control(`objects/${a[12].payment_intent.id}`, { set: { status: 'canceled' } });
    injected.status_bad = { category: 'status_mismatch', status: 'mismatched', route: a[12].id };
    // status, safe: a payment whose payment_intent.succeeded never arrived.
    const pending = await pay(s.A.id, 3300, 'direct');
    expect(pending.status).toBe('pending');
    injected.status_healed = { category: 'status_mismatch', status: 'healed', route: pending.id };
    // fee: the application fee Stripe holds differs from ours.
    const feeCharge = await s.gateway.retrieveCharge(
      (await s.gateway.retrievePaymentIntent(a[13].payment_intent.id!, { stripeAccount: s.A.acct }))
        .latest_charge as string,
      { stripeAccount: s.A.acct },
    );
    await control(`objects/${feeCharge.application_fee as string}`, { set: { amount: 5 } });
    injected.fee = { category: 'fee_mismatch', status: 'mismatched', route: a[13].id };
    // refunded total: Stripe's charge says more was refunded than we know of.
    const refundCharge = (await s.gateway.retrievePaymentIntent(b[12].payment_intent.id!))
      .latest_charge as string;
    await control(`objects/${refundCharge}`, { set: { amount_refunded: 400 } });
    injected.refund = { category: 'refund_mismatch', status: 'mismatched', route: b[12].id };
    // transfer: the destination charge's transfer carries another amount.
    const transferOf = (
      await s.gateway.retrieveCharge(
        (await s.gateway.retrievePaymentIntent(b[13].payment_intent.id!)).latest_charge as string,
      )
    ).transfer as string;
    await control(`objects/${transferOf}`, { set: { amount: 10 } });
    injected.transfer = { category: 'transfer_mismatch', status: 'mismatched', route: b[13].id };
    // transfer, split: A's share of the split payment carries another amount at Stripe.
    const shareOfA = splitShares.find((x) => x.tenant === s.A.id)!;
    await control(`objects/${shareOfA.transfer}`, { set: { amount: 5999 } });
    injected.split = {
      category: 'transfer_mismatch',
      status: 'mismatched',
      route: shareOfA.route,
      object: shareOfA.transfer,
    };
    // duplicate: a second PaymentIntent carrying an existing route's id.
    const twin = await s.gateway.createPaymentIntent(
      {
        amount: b[14].amount,
        currency: 'usd',
        transfer_data: { destination: s.B.acct },
        metadata: { tenant_id: s.B.id, payment_route_id: b[14].id },
      },
      {},
    );
    injected.duplicate = { category: 'duplicate', status: 'mismatched', route: b[14].id, object: twin.id };

    const completedBefore = await eventsFor('connect.payment.completed', pending.id);
    const drifted = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    driftRuns = drifted.runs;
    const items = drifted.items;
    const found = items.map((i) => ({
      category: i.category,
      status: i.status,
      ...(i.payment_route_id ? { route: i.payment_route_id } : {}),
      ...(i.stripe_object_id ? { object: i.stripe_object_id } : {}),
    }));
    for (const want of Object.values(injected)) expect(found).toContainEqual(expect.objectContaining(want));
    expect(items).toHaveLength(Object.keys(injected).length);
    expect(drifted.totals).toEqual({
      missing_local: 2,
      missing_stripe: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      status_mismatch: 2,
      fee_mismatch: 1,
      refund_mismatch: 1,
      transfer_mismatch: 2,
      duplicate: 1,
      payout_unlinked: 1,
    });
    expect(driftRuns.reduce((n, r) => n + r.healed, 0)).toBe(2);
    expect(driftRuns.reduce((n, r) => n + r.new_items, 0)).toBe(items.length);
    // Both sides are on the item.
    const amountItem = items.find((i) => i.category === 'amount_mismatch')!;
    expect(amountItem.local).toMatchObject({ amount: a[11].amount });
    expect(amountItem.stripe).toMatchObject({ amount: 1 });

    // The heals went through the webhook handlers: the route moved forward and the same ConnectEvents went out.
    expect((await routeOf(pending.id)).status).toBe('completed');
    expect(await eventsFor('connect.payment.completed', pending.id)).toBe(completedBefore + 1);
    const recorded = await s.ds
      .getRepository(PaymentRouteEntity)
      .findOneByOrFail({ stripe_object_id: dashboardRefund.id });
    expect(recorded).toMatchObject({ type: 'refund', status: 'completed', amount: 300, parent_id: a[10].id });
    expect(await eventsFor('connect.refund.completed', recorded.id)).toBe(1);
    const drift = (await s.ds.query(
      `SELECT tenant_id, data FROM connect_events WHERE type = 'connect.reconciliation.drift_detected' AND data->>'run_id' = ANY($1)`,
      [driftRuns.map((r) => r.id)],
    )) as { tenant_id: string; data: { counts: Record<string, number> } }[];
    expect(Object.fromEntries(drift.map((d) => [d.tenant_id, d.data.counts]))).toEqual({
      [s.A.id]: {
        missing_local: 1,
        amount_mismatch: 1,
        status_mismatch: 1,
        fee_mismatch: 1,
        transfer_mismatch: 1,
        payout_unlinked: 1,
      },
      [s.B.id]: {
        missing_stripe: 1,
        currency_mismatch: 1,
        refund_mismatch: 1,
        transfer_mismatch: 1,
        duplicate: 1,
      },
    });
    // The gauge shows the open items.
    const metrics = await (await fetch(`${s.t.baseUrl}/metrics`)).text();
    // Other suites share the test database (the security suite seeds an item): the gauge counts every live one.
    const [{ n: open }] = (await s.ds.query(
      `SELECT count(*)::int AS n FROM reconciliation_items
        WHERE scope = 'live' AND category = 'duplicate' AND status = 'mismatched'`,
    )) as { n: number }[];
    expect(open).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain(
      `connect_reconciliation_drift_items{category="duplicate",status="mismatched"} ${open}`,
    );
  });

  it('a second run of the same window finds nothing new', async () => {
    const before = (await s.ds.query(`SELECT count(*)::int AS n FROM reconciliation_items`)) as {
      n: number;
    }[];
    const again = await reconcileTenants({ ...windowNow(), grace_seconds: 0 });
    secondRun = again.items;
    expect(again.runs.map((r) => [r.new_items, r.healed])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(again.totals).toEqual({
      missing_local: 1,
      missing_stripe: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      status_mismatch: 1,
      fee_mismatch: 1,
      refund_mismatch: 1,
      transfer_mismatch: 2,
      duplicate: 1,
      payout_unlinked: 1,
    });
    const after = (await s.ds.query(`SELECT count(*)::int AS n FROM reconciliation_items`)) as {
      n: number;
    }[];
    expect(after[0].n).toBe(before[0].n);
  });

  it('resolves an item by hand with a note, audit-logged; a tenant caller cannot see another tenant’s run', async () => {
    const [dup] = (await Promise.all(driftRuns.map((r) => itemsOf(r.id, '&category=duplicate')))).flat();
    const res = await api<Item>('POST', `/connect/reconciliation/items/${dup.id}/resolve`, {
      note: 'Canceled the twin PaymentIntent by hand',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', note: 'Canceled the twin PaymentIntent by hand' });
    // The audit row is written after the response, off the request path.
    const audit = await until('the audit row', async () => {
      const rows = (await s.ds.query(
        `SELECT action, outcome, target_id FROM audit_log WHERE action = 'reconciliation.resolve'`,
      )) as { action: string; outcome: string; target_id: string }[];
      return rows.length ? rows : null;
    });
    expect(audit).toEqual([{ action: 'reconciliation.resolve', outcome: 'success', target_id: dup.id }]);
    const tenantToken = s.t.token({ sub: 'c-admin', tenant_id: s.C.id, roles: ['admin'] });
    const runOfA = driftRuns.find((r) => r.tenant_id === s.A.id)!;
    expect(
      (await api('GET', `/connect/reconciliation/runs/${runOfA.id}`, undefined, tenantToken)).status,
    ).toBe(404);
    const [itemOfA] = await itemsOf(runOfA.id, '&status=mismatched');
    const foreign = await api<{ code: string }>(
      'POST',
      `/connect/reconciliation/items/${itemOfA.id}/resolve`,
      { note: 'not mine' },
      tenantToken,
    );
    expect(foreign.status).toBe(404);
    const own = driftRuns.find((r) => r.tenant_id === s.C.id)!;
    expect((await api('GET', `/connect/reconciliation/runs/${own.id}`, undefined, tenantToken)).status).toBe(
      200,
    );
    expect(
      (await api('POST', '/connect/reconciliation/runs', { ...windowNow(), tenant_id: s.A.id }, tenantToken))
        .status,
    ).toBe(403);
    const bad = await api<{ code: string }>('POST', '/connect/reconciliation/runs', {
      from: '2026-11-02T00:00:00Z',
      to: '2026-11-01T00:00:00Z',
    });
    expect(bad.status).toBe(400);
  });

  it('a dry run changes no row and sends no event', async () => {
    const pending = await pay(s.A.id, 2100, 'direct'); // webhooks are still paused: a healable drift
    const snapshot = async (): Promise<unknown> => ({
      routes: await s.ds.query(`SELECT id, status, version, updated_at FROM payment_routes ORDER BY id`),
      events: await s.ds.query(`SELECT count(*)::int AS n FROM connect_events`),
      accounts: await s.ds.query(`SELECT tenant_id, updated_at FROM connect_accounts ORDER BY tenant_id`),
      live: await s.ds.query(
        `SELECT id, status, last_run_id FROM reconciliation_items WHERE scope = 'live' ORDER BY id`,
      ),
    });
    const before = await snapshot();
    const run = await reconcile({ ...windowNow(), grace_seconds: 0, tenant_id: s.A.id, dry_run: true });
    expect(run).toMatchObject({ status: 'completed', dry_run: true, healed: 0 });
    const items = await itemsOf(run.id, '&category=status_mismatch');
    expect(items.map((i) => [i.payment_route_id, i.status])).toContainEqual([pending.id, 'mismatched']);
    expect(await snapshot()).toEqual(before);
    await control('webhooks/resume');
    await until(
      'the paused webhooks applied',
      async () => (await routeOf(pending.id)).status === 'completed',
    );
  });

  it('reports in-flight payments during live traffic as expected, never mismatched', async () => {
    const from = new Date(Date.now() - 500).toISOString();
    let stop = false;
    const live: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        const r = await pay(s.C.id, 1200, live.length % 2 ? 'direct' : 'destination');
        live.push(r.id);
      }
    })();
    const runs: Run[] = [];
    await until('some traffic', async () => live.length >= 5);
    runs.push(await reconcile({ tenant_id: s.C.id, from, to: new Date(Date.now() + 60_000).toISOString() }));
    stop = true;
    await traffic;
    const items = await itemsOf(runs[0].id);
    expect(items.filter((i) => i.status === 'mismatched')).toEqual([]);
    for (const i of items)
      expect(i.payment_route_id === null || live.includes(i.payment_route_id)).toBe(true);
  });

  it('a job stopped half-way resumes from its stored cursor and ends with the same items as an uninterrupted run', async () => {
    await s.t.close();
    // Slow enough to stop it mid-way: 8 calls a second, 10 objects a page.
    await boot({ RECONCILIATION_STRIPE_RPS: '8', RECONCILIATION_PAGE_SIZE: '10' });
    const window = { ...windowNow(), grace_seconds: 0, tenant_id: s.A.id, dry_run: true };
    const start = await api<Run>('POST', '/connect/reconciliation/runs', window);
    const stored = await until('the job past its PaymentIntents', async () => {
      const [job] = (await s.ds.query(
        `SELECT phase, cursor, pages FROM reconciliation_jobs WHERE run_id = $1`,
        [start.body.id],
      )) as { phase: string; cursor: string | null; pages: number }[];
      return job && job.phase.startsWith('ch:') ? job : null;
    });
    await s.t.close();
    const stoppedAt = Date.now();
    await boot({ RECONCILIATION_PAGE_SIZE: '10' });
    const [job] = (await s.ds.query(
      `SELECT phase, status, pages FROM reconciliation_jobs WHERE run_id = $1`,
      [start.body.id],
    )) as { phase: string; status: string; pages: number }[];
    // Stopped mid-way: its progress kept, not started over.
    expect(PHASES.indexOf(job.phase as never)).toBeGreaterThanOrEqual(PHASES.indexOf(stored.phase as never));
    expect(job.pages).toBeGreaterThanOrEqual(stored.pages);
    expect(stored.pages).toBeGreaterThan(2);
    const resumed = await until('the resumed run', async () => {
      const r = await api<Run>('GET', `/connect/reconciliation/runs/${start.body.id}`);
      return r.body.status === 'completed' ? r.body : null;
    });
    // After the restart no PaymentIntent list was walked again: the job went on from its stored phase and cursor.
    const requests = await s.requests({ path: '/v1/payment_intents' });
    expect(
      requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'GET' && r.at > stoppedAt),
    ).toEqual([]);
    const uninterrupted = await reconcile(window);
    const key = (i: Item): string => `${i.category}|${i.status}|${i.payment_route_id}|${i.stripe_object_id}`;
    const left = (await itemsOf(resumed.id)).map(key).sort();
    expect(left.length).toBeGreaterThan(3);
    expect(left).toEqual((await itemsOf(uninterrupted.id)).map(key).sort());
    expect(resumed.totals).toEqual(uninterrupted.totals);
  });

  it('the cron starts a run over every tenant for the configured window, one job per tenant', async () => {
    const [schedule] = (await s.ds.query(`SELECT name, cron FROM ${schema}.schedule WHERE name = $1`, [
      RECONCILIATION_SCHEDULE_QUEUE,
    ])) as { name: string; cron: string }[];
    expect(schedule).toEqual({ name: RECONCILIATION_SCHEDULE_QUEUE, cron: '41 2 * * *' });
    // What pg-boss's clock enqueues on the tick, sent now.
    await s.t.app.get(JobQueue).send(RECONCILIATION_SCHEDULE_QUEUE, {});
    const run = await until('the scheduled run', async () => {
      const rows = (await s.ds.query(
        `SELECT id, tenant_id, window_from, window_to FROM reconciliation_runs WHERE trigger = 'scheduled'`,
      )) as { id: string; tenant_id: string | null; window_from: Date; window_to: Date }[];
      return rows[0];
    });
    expect(run.tenant_id).toBeNull();
    expect(run.window_to.getTime() - run.window_from.getTime()).toBe(90_000_000);
    const ours = await until('our tenants reconciled', async () => {
      const jobs = (await s.ds.query(
        `SELECT tenant_id, status FROM reconciliation_jobs WHERE run_id = $1 AND tenant_id = ANY($2)`,
        [run.id, tenants.map((x) => x.id)],
      )) as { tenant_id: string; status: string }[];
      return jobs.length === 3 && jobs.every((j) => j.status === 'completed') ? jobs : null;
    });
    expect(ours).toHaveLength(3);
    // Sharing the platform pages between the jobs of one run changes nothing in what each tenant's job finds.
    const identity = (i: {
      category: string;
      payment_route_id: string | null;
      stripe_object_id: string | null;
    }) => `${i.category}|${i.payment_route_id}|${i.stripe_object_id}`;
    const seen = (await s.ds.query(
      `SELECT category, payment_route_id, stripe_object_id FROM reconciliation_items
        WHERE last_run_id = $1 AND tenant_id = ANY($2)`,
      [run.id, tenants.map((x) => x.id)],
    )) as Item[];
    expect(seen.map(identity).sort()).toEqual(secondRun.map(identity).sort());
  });
});

import Stripe from 'stripe';
import { log, ServiceProcess, startWorld, World } from './support/harness';
import {
  checkPayments,
  newTally,
  paymentTraffic,
  platformToken,
  summary,
  trafficTo,
} from './support/traffic';

const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

/**
 * Stripe slow, then faulty, through the emulator's fault controls. Slow: every PaymentIntent create answered after
 * 3 s with 100 payment requests in flight; cached account reads, readiness and webhook intake must all be answered
 * before the first payment is (no database connection or transaction is held across a Stripe call, so the pool of
 * 10 stays free), and every payment gets its 201. Faulty: 500s (before and after Stripe acted) and 429s on creates;
 * every payment ends 201 or 202 with exactly one PaymentIntent per route, never a 500.
 */
describe('fault: Stripe slow and faulty', () => {
  let world: World;
  let svc: ServiceProcess;

  beforeAll(async () => {
    world = await startWorld('stripe');
    // The production request deadline (30 s): 100 creates held 3 s each at Stripe all fit in it.
    svc = await world.startService({ REQUEST_TIMEOUT_MS: '30000' });
  });
  afterAll(async () => world?.close());

  it('slow PaymentIntent creates: reads, readiness and intake answered while the payments wait; every payment gets its 201', async () => {
    const token = platformToken();
    const auth = { authorization: `Bearer ${token}` };
    const account = `${svc.url}/connect/accounts/${world.tenant}`;
    expect((await fetch(account, { headers: auth })).status).toBe(200); // warms the cache
    await world.emulator.fault({ path: '/v1/payment_intents', method: 'POST', count: 100, delay_ms: 3000 });

    const tally = newTally();
    const started = Date.now();
    let firstPaymentAt = Infinity;
    let lastPaymentAt = 0;
    const routes = new Set<string>();
    const payments = Array.from({ length: 100 }, async (_, i) => {
      const res = await fetch(`${svc.url}/connect/payments`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `slow-${started}-${i}` },
        body: JSON.stringify({
          tenant_id: world.tenant,
          payment_data: { amount: 1000 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
        }),
      });
      firstPaymentAt = Math.min(firstPaymentAt, Date.now());
      lastPaymentAt = Math.max(lastPaymentAt, Date.now());
      tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
      const body = (await res.json()) as { id?: string; code?: string };
      if (res.status === 201 && body.id) routes.add(body.id);
      else tally.violations.push(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    });

    // Every PaymentIntent create is now held at Stripe; the rest of the service must not wait for them.
    await new Promise((r) => setTimeout(r, 300));
    const timings: Record<string, number[]> = { read: [], ready: [], intake: [] };
    const answered: Array<{ kind: string; status: number; at: number }> = [];
    const timed = async (kind: string, run: () => Promise<Response>) => {
      const t0 = Date.now();
      const res = await run();
      await res.arrayBuffer();
      timings[kind].push(Date.now() - t0);
      answered.push({ kind, status: res.status, at: Date.now() });
    };
    for (let i = 0; i < 10; i++) {
      const payload = JSON.stringify({
        id: `evt_slow_${started}_${i}`,
        object: 'event',
        account: world.account,
        api_version: '2026-10-28.endive',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: `pi_slow_${i}`, object: 'payment_intent', metadata: {} } },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'payment_intent.succeeded',
      });
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: world.secrets.connect });
      await Promise.all([
        timed('read', () => fetch(account, { headers: auth })),
        timed('ready', () => fetch(`${svc.url}/health/ready`)),
        timed('intake', () =>
          fetch(`${svc.url}/connect/webhooks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'stripe-signature': signature },
            body: payload,
          }),
        ),
      ]);
    }
    await Promise.all(payments);
    const lastProbeAt = Math.max(...answered.map((a) => a.at));
    log(
      `slow Stripe: payments ${summary(tally)} (first answered ${firstPaymentAt - started} ms after sending); while all ` +
        `100 were held: reads p99 ${p99(timings.read)} ms, readiness p99 ${p99(timings.ready)} ms, intake p99 ` +
        `${p99(timings.intake)} ms; last probe answered ${firstPaymentAt - lastProbeAt} ms before the first payment, ` +
        `${lastPaymentAt - lastProbeAt} ms before the last`,
    );

    expect(answered.every((a) => a.status === 200)).toBe(true);
    expect(answered).toHaveLength(30);
    // Ordering, not speed: everything else was answered while the payments still waited on Stripe. Were a connection
    // held across the Stripe call, 100 payments would queue on the pool of 10 (about 30 s) and the probes behind them.
    expect(lastProbeAt).toBeLessThan(lastPaymentAt);
    expect(tally.violations).toEqual([]);
    expect(tally.statuses).toEqual({ 201: 100 });
    const check = await checkPayments(world.databaseUrl, world.emulator, world.account, routes);
    expect(check.problems).toEqual([]);
    expect(check.recorded).toBe(100);
    await world.emulator.clearFaults();
  });

  it('faulty PaymentIntent creates (500 before and after Stripe acted, 429): 201 or 202, one PaymentIntent per route', async () => {
    const pid = svc.pid;
    await world.emulator.fault({ path: '/v1/payment_intents', method: 'POST', count: 6, status: 500 });
    await world.emulator.fault({
      path: '/v1/payment_intents',
      method: 'POST',
      count: 6,
      status: 500,
      mode: 'after',
    });
    await world.emulator.fault({ path: '/v1/payment_intents', method: 'POST', count: 6, status: 429 });
    const pays = paymentTraffic(
      trafficTo(world, () => svc.url, 40_000),
      4,
      { count: 40 },
    );
    await pays.finished;
    await world.emulator.clearFaults();
    // 202s are resolved by the reconcile job with the route's own idempotency key.
    const check = await checkPayments(
      world.databaseUrl,
      world.emulator,
      world.account,
      pays.created,
      pays.pending,
    );
    log(
      `faulty Stripe: payments ${summary(pays.tally)}; 201 ${pays.created.size}, 202 ${pays.pending.size}; PaymentIntents ${check.paymentIntents}`,
    );

    expect(svc.pid).toBe(pid);
    expect(svc.running).toBe(true);
    expect(pays.tally.violations).toEqual([]);
    expect(pays.tally.statuses['500'] ?? 0).toBe(0);
    expect(pays.created.size + pays.pending.size).toBe(40);
    expect(check.problems).toEqual([]);
    expect(await svc.metric('connect_process_unhandled_errors_total')).toBe(0);
  });
});

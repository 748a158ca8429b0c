import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, log, probe, startBalancer, startWorld, withDb, World } from './support/harness';
import {
  checkPayments,
  checkWebhooks,
  paymentTraffic,
  platformToken,
  summary,
  webhookTraffic,
  trafficTo,
} from './support/traffic';

/**
 * A rolling deploy: replica B starts, replica A gets SIGTERM under load behind a load balancer. Proves: A's
 * readiness turns 503 at the start of its drain, a request in flight on A (a payment held 3 s at Stripe) finishes
 * with its 201, A's workers stop and A exits 0 well inside Kubernetes' 30 s grace period, B takes the rest, and
 * nothing acknowledged by either is lost or applied twice; no job is left running or completed twice.
 */
describe('fault: SIGTERM under load (rolling deploy)', () => {
  let world: World;
  let lb: Awaited<ReturnType<typeof startBalancer>>;

  beforeAll(async () => {
    const lbPort = await freePort();
    world = await startWorld('deploy', { deliverTo: lbPort });
    const portA = await freePort();
    lb = await startBalancer(lbPort, portA);
  });
  afterAll(async () => {
    await lb?.close();
    await world?.close();
  });

  it('drains: in-flight requests finish, jobs stop or go back, exit 0 in time, nothing lost or doubled', async () => {
    const a = await world.startService({}, lb.target);
    const o = trafficTo(world, () => lb.url, 8000);
    const hooks = webhookTraffic(o, 6, 'dpl');
    const pays = paymentTraffic(o, 3);
    await sleep(3000);
    const b = await world.startService({}, await freePort());
    log(
      `replica B ready (pid ${b.pid}); ${hooks.acknowledged.size} webhooks, ${pays.created.size} payments so far`,
    );

    // A request that is still running on A when SIGTERM arrives: a payment held 3 s at Stripe.
    await world.emulator.fault({ path: '/v1/payment_intents', method: 'POST', count: 1, delay_ms: 3000 });
    const inFlight = fetch(`${a.url}/connect/payments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platformToken()}`,
        'content-type': 'application/json',
        'idempotency-key': `inflight-${Date.now()}`,
      },
      body: JSON.stringify({
        tenant_id: world.tenant,
        payment_data: { amount: 4242, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id?: string } }));
    await sleep(500);

    const readyA = probe(() => a.url, '/health/ready', 50);
    const termAt = Date.now();
    a.child.kill('SIGTERM');
    // The load balancer sends new connections to B from now on; kept-alive ones stay on A until A closes them.
    lb.target = Number(new URL(b.url).port);
    const exitCode = await a.exited;
    const drainMs = Date.now() - termAt;
    await readyA.stop();
    const held = await inFlight;
    await sleep(4000);
    await Promise.all([hooks.stop(), pays.stop()]);

    if (held.status === 201 && held.body.id) pays.created.add(held.body.id);
    const webhooks = await checkWebhooks(world.databaseUrl, hooks.acknowledged);
    const payments = await checkPayments(
      world.databaseUrl,
      world.emulator,
      world.account,
      pays.created,
      pays.pending,
    );
    const answeredByA = readyA.statuses.filter((p) => p.status !== 0);
    // pg-boss rows: nothing left active (A's running jobs finished or were handed back), none completed twice.
    const jobs = await withDb(world.databaseUrl, async (db) => {
      for (let i = 0; i < 60; i++) {
        const { rows } = await db.query<{ active: number }>(
          `SELECT count(*)::int AS active FROM pgboss.job WHERE state = 'active'`,
        );
        if (rows[0].active === 0) break;
        await sleep(500);
      }
      const { rows } = await db.query<{ active: number; doubled: number }>(
        `SELECT (SELECT count(*)::int FROM pgboss.job WHERE state = 'active') AS active,
                (SELECT count(*)::int FROM (SELECT data->>'inboxId' FROM pgboss.job
                  WHERE name = 'webhooks.process-stripe-event' AND state = 'completed' GROUP BY 1 HAVING count(*) > 1) d) AS doubled`,
      );
      return rows[0];
    });
    log(
      `A exited ${exitCode} ${drainMs} ms after SIGTERM; A's readiness after SIGTERM: ${answeredByA.map((p) => p.status).join(',')}; ` +
        `in-flight payment: ${held.status}; webhooks: ${summary(hooks.tally)}; acknowledged ${webhooks.acknowledged}, processed once ` +
        `${webhooks.processedOnce}; payments: ${summary(pays.tally)}; 201 ${pays.created.size}, 202 ${pays.pending.size}, ` +
        `PaymentIntents ${payments.paymentIntents}; requests cut off on closing sockets ${hooks.tally.cutOff + pays.tally.cutOff}; ` +
        `jobs active ${jobs.active}, completed twice ${jobs.doubled}`,
    );

    expect(exitCode).toBe(0);
    // SHUTDOWN_TIMEOUT_MS (20 s) < the 30 s grace period: A never needed its deadline.
    expect(drainMs).toBeLessThan(20_000);
    // A probe sent before the signal was handled may still say 200; from the first 503 on, A is never ready again.
    const first503 = answeredByA.findIndex((p) => p.status === 503);
    expect(first503).toBeGreaterThanOrEqual(0);
    expect(answeredByA.slice(first503).every((p) => p.status === 503)).toBe(true);
    expect(answeredByA.slice(0, first503).every((p) => p.status === 200)).toBe(true);
    expect(held.status).toBe(201);
    expect(b.running).toBe(true);
    expect([...hooks.tally.violations, ...pays.tally.violations]).toEqual([]);
    expect(hooks.unacknowledged.size).toBe(0);
    expect(webhooks.problems).toEqual([]);
    expect(webhooks.processedOnce).toBe(hooks.acknowledged.size);
    expect(payments.problems).toEqual([]);
    expect(pays.unanswered).toBe(0);
    expect(jobs).toEqual({ active: 0, doubled: 0 });
    expect(await b.metric('connect_process_unhandled_errors_total')).toBe(0);
  });
});

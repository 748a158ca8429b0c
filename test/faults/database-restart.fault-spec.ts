import { setTimeout as sleep } from 'node:timers/promises';
import { log, probe, ServiceProcess, startWorld, World } from './support/harness';
import {
  checkPayments,
  checkWebhooks,
  paymentTraffic,
  summary,
  webhookTraffic,
  trafficTo,
} from './support/traffic';

/**
 * PostgreSQL stopped for 10 s (fast shutdown, as a failover or a minor upgrade does) while signed webhooks arrive
 * and payments are created. Proves: the same process throughout, readiness 503 and liveness 200 during the outage,
 * 503 ServiceErrors (never a 500, never a hang past REQUEST_TIMEOUT_MS), readiness back by itself within 5 s, and
 * every acknowledged webhook and payment present and applied exactly once.
 */
describe('fault: PostgreSQL stopped for 10 s under load', () => {
  let world: World;
  let svc: ServiceProcess;

  beforeAll(async () => {
    world = await startWorld('dbrestart');
    svc = await world.startService();
  });
  afterAll(async () => world?.close());

  it('rides through: same pid, ready again by itself, nothing lost or doubled', async () => {
    const pid = svc.pid;
    const o = trafficTo(world, () => svc.url, 5000 + 3000);
    const live = probe(() => svc.url, '/health/live');
    const ready = probe(() => svc.url, '/health/ready');
    const hooks = webhookTraffic(o, 8, 'dbr');
    const pays = paymentTraffic(o, 4);

    await sleep(3000);
    const stoppedAt = Date.now();
    await world.pg.stop();
    log(`PostgreSQL stopped (fast) after ${hooks.acknowledged.size} webhooks, ${pays.created.size} payments`);
    await sleep(10_000);
    await world.pg.start();
    const returnedAt = Date.now();
    log('PostgreSQL started again');
    for (let i = 0; i < 4; i++) {
      await sleep(2000);
      log(
        `webhooks ${summary(hooks.tally)} | payments ${summary(pays.tally)} | ready ${ready.statuses.at(-1)?.status}`,
      );
    }
    await Promise.all([hooks.stop(), pays.stop()]);
    log('traffic stopped');
    await Promise.all([live.stop(), ready.stop()]);

    const readyAgain = ready.statuses.find((p) => p.at >= returnedAt && p.status === 200);
    const during = (s: typeof ready.statuses) =>
      s.filter((p) => p.at > stoppedAt + 1000 && p.at < returnedAt);
    const webhooks = await checkWebhooks(world.databaseUrl, hooks.acknowledged);
    const payments = await checkPayments(
      world.databaseUrl,
      world.emulator,
      world.account,
      pays.created,
      pays.pending,
    );
    log(
      `webhooks: ${summary(hooks.tally)}; acknowledged ${webhooks.acknowledged}, processed once ${webhooks.processedOnce}, ` +
        `never acknowledged ${hooks.unacknowledged.size}; payments: ${summary(pays.tally)}; 201 ${pays.created.size}, ` +
        `202 ${pays.pending.size}, PaymentIntents ${payments.paymentIntents}; ready again ${readyAgain ? readyAgain.at - returnedAt : 'never'} ms after PostgreSQL returned`,
    );

    expect(svc.running).toBe(true);
    expect(svc.pid).toBe(pid);
    expect(await svc.metric('connect_process_unhandled_errors_total')).toBe(0);
    expect([...hooks.tally.violations, ...pays.tally.violations]).toEqual([]);
    expect(hooks.tally.statuses['500'] ?? 0).toBe(0);
    // The outage was seen (503s), and everything refused was delivered again and acknowledged afterwards.
    expect(hooks.tally.statuses['503']).toBeGreaterThan(0);
    expect(hooks.unacknowledged.size).toBe(0);
    expect(hooks.tally.cutOff + pays.tally.cutOff).toBe(0);
    expect(webhooks.problems).toEqual([]);
    expect(webhooks.processedOnce).toBe(hooks.acknowledged.size);
    expect(payments.problems).toEqual([]);
    expect(pays.created.size).toBeGreaterThan(0);
    expect(pays.unanswered).toBe(0);
    expect(during(ready.statuses).length).toBeGreaterThan(0);
    expect(during(ready.statuses).every((p) => p.status === 503)).toBe(true);
    expect(live.statuses.every((p) => p.status === 200)).toBe(true);
    expect(readyAgain).toBeDefined();
    expect(readyAgain!.at - returnedAt).toBeLessThanOrEqual(5000);
  });
});

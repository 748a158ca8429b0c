import { setTimeout as sleep } from 'node:timers/promises';
import { log, probe, ServiceProcess, startWorld, World } from './support/harness';
import {
  checkPayments,
  checkWebhooks,
  paymentTraffic,
  readTraffic,
  summary,
  webhookTraffic,
  trafficTo,
} from './support/traffic';

/**
 * Redis killed (SIGKILL, its data gone) for 5 s and started again while webhooks, payments and cached account reads
 * run, with the production rate limits on. Proves Redis is an accelerator only: no 500, readiness stays 200 (it
 * reports Redis unreachable, never fails on it), the limits and the cache fall back in-process, everything
 * acknowledged is applied once, and the service uses Redis again by itself once it is back.
 */
describe('fault: Redis killed and restarted under load', () => {
  let world: World;
  let svc: ServiceProcess;

  beforeAll(async () => {
    world = await startWorld('redis');
    svc = await world.startService();
  });
  afterAll(async () => world?.close());

  it('rides through: no 500, readiness up, nothing lost or doubled, Redis used again', async () => {
    const pid = svc.pid;
    const o = trafficTo(world, () => svc.url, 8000);
    const ready = probe(() => svc.url, '/health/ready');
    const hooks = webhookTraffic(o, 6, 'rds');
    const pays = paymentTraffic(o, 3);
    const reads = readTraffic(o, 3, `/connect/accounts/${world.tenant}`);

    await sleep(3000);
    const killedAt = Date.now();
    await world.redis.kill();
    log('Redis killed');
    await sleep(5000);
    await world.redis.start();
    const backAt = Date.now();
    log('Redis started again');
    let redisBack: number | null = null;
    for (let i = 0; i < 50 && redisBack === null; i++) {
      const body = (await (await fetch(`${svc.url}/health/ready`)).json()) as {
        details?: { redis?: { reachable?: boolean } };
      };
      if (body.details?.redis && body.details.redis.reachable !== false) redisBack = Date.now() - backAt;
      else await sleep(200);
    }
    await sleep(3000);
    await Promise.all([hooks.stop(), pays.stop(), reads.stop()]);
    await ready.stop();

    const webhooks = await checkWebhooks(world.databaseUrl, hooks.acknowledged);
    const payments = await checkPayments(
      world.databaseUrl,
      world.emulator,
      world.account,
      pays.created,
      pays.pending,
    );
    const readsDuring = ready.statuses.filter((p) => p.at > killedAt && p.at < backAt);
    log(
      `webhooks: ${summary(hooks.tally)}; acknowledged ${webhooks.acknowledged}, processed once ${webhooks.processedOnce}; ` +
        `payments: ${summary(pays.tally)}; 201 ${pays.created.size}, PaymentIntents ${payments.paymentIntents}; ` +
        `account reads: ${summary(reads.tally)}; readiness during the outage: ${readsDuring.length} probes, all 200: ` +
        `${readsDuring.every((p) => p.status === 200)}; Redis used again ${redisBack} ms after it returned`,
    );

    expect(svc.running).toBe(true);
    expect(svc.pid).toBe(pid);
    expect(await svc.metric('connect_process_unhandled_errors_total')).toBe(0);
    expect([...hooks.tally.violations, ...pays.tally.violations, ...reads.tally.violations]).toEqual([]);
    expect(Object.keys(reads.tally.statuses)).toEqual(['200']);
    expect(hooks.unacknowledged.size).toBe(0);
    expect(webhooks.problems).toEqual([]);
    expect(webhooks.processedOnce).toBe(hooks.acknowledged.size);
    expect(payments.problems).toEqual([]);
    expect(pays.unanswered).toBe(0);
    expect(readsDuring.length).toBeGreaterThan(0);
    expect(ready.statuses.every((p) => p.status === 200)).toBe(true);
    expect(redisBack).not.toBeNull();
  });
});

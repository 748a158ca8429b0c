import { Client } from 'pg';
import { DISPATCH_QUEUE } from '../../apps/connect-service/src/events/events.queues';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { createPrivateDatabase } from '../utils/private-database';
import { Exposition, parseExposition, sampleValue } from '../utils/prometheus-text';
import { bootTestApp, TestApp } from '../support/app';
import { api } from '../support/http';
import { startTcpProxy } from '../webhooks/webhook-support';

/**
 * The scrape-time gauges (accounts, webhook inbox, deliveries, job queues) against a database of the suite's own,
 * so every count is exact; then a database outage: /metrics still answers, with the last values and an error count.
 */
describe('ops gauges read at scrape time', () => {
  let db: Awaited<ReturnType<typeof createPrivateDatabase>>;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let sql: Client;
  let t: TestApp;

  beforeAll(async () => {
    db = await createPrivateDatabase();
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    // No workers: the rows below stay exactly as written.
    t = await bootTestApp({ DATABASE_URL: proxied.toString(), WORKERS_ENABLED: 'false' });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await sql?.end();
    await proxy?.stop();
    await db?.drop();
  });

  async function scrape(): Promise<Exposition> {
    const res = await api(t)('GET', '/metrics');
    expect(res.status).toBe(200);
    return parseExposition(res.raw);
  }

  it('publishes accounts by status, the inbox by status, pending deliveries and waiting jobs', async () => {
    const accounts = ['active', 'active', 'restricted', 'pending'];
    for (const [i, status] of accounts.entries()) {
      await sql.query(
        `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type)
         VALUES ($1, $2, $3, 'account_link', 'express')`,
        [`gauge_t${i}`, `acct_gauge${i}`, status],
      );
    }
    const inbox: Array<[string, number]> = [
      ['received', 0],
      ['received', 0],
      ['received', 120], // the oldest waiting event: two minutes old
      ['failed', 30],
      ['dead', 5000],
      ['dead', 10],
      ['unmatched', 0],
      ['processed', 9000],
      ['processed', 0],
    ];
    for (const [i, [status, ageSeconds]] of inbox.entries()) {
      await sql.query(
        `INSERT INTO stripe_webhook_events (stripe_event_id, type, livemode, event_created, payload, status, received_at)
         VALUES ($1, 'customer.updated', false, 1, '{}', $2, now() - make_interval(secs => $3))`,
        [`evt_gauge_${i}`, status, ageSeconds],
      );
    }
    const [{ id: eventId }] = (
      await sql.query<{ id: string }>(
        `INSERT INTO connect_events (type, tenant_id) VALUES ('connect.account.updated', 'gauge_t0') RETURNING id`,
      )
    ).rows;
    const deliveries: Array<[string, number, number]> = [
      ['pending', 0, 0],
      ['pending', 0, 0],
      ['pending', 2, 300], // retrying, five minutes old
      ['succeeded', 1, 0],
    ];
    for (const [status, attempts, ageSeconds] of deliveries) {
      const [{ id: subId }] = (
        await sql.query<{ id: string }>(
          `INSERT INTO event_subscriptions (url, event_types, secret_enc) VALUES ('https://example.test/hook', '{*}', 'x')
           RETURNING id`,
        )
      ).rows;
      await sql.query(
        `INSERT INTO event_deliveries (event_id, subscription_id, tenant_id, status, attempts, created_at)
         VALUES ($1, $2, 'gauge_t0', $3, $4, now() - make_interval(secs => $5))`,
        [eventId, subId, status, attempts, ageSeconds],
      );
    }
    const jobs = t.app.get(JobQueue);
    await jobs.send(DISPATCH_QUEUE, { eventId });
    await jobs.send(DISPATCH_QUEUE, { eventId });

    const m = await scrape();
    expect(
      ['pending', 'active', 'restricted', 'disabled'].map((status) =>
        sampleValue(m, 'connect_accounts', { status }),
      ),
    ).toEqual([1, 2, 1, 0]);
    expect(
      ['received', 'failed', 'dead', 'unmatched'].map((status) =>
        sampleValue(m, 'stripe_webhook_inbox_events', { status }),
      ),
    ).toEqual([3, 1, 2, 1]);
    expect(sampleValue(m, 'stripe_webhook_inbox_backlog', { status: 'received' })).toBe(3);
    expect(sampleValue(m, 'stripe_webhook_inbox_backlog', { status: 'failed' })).toBe(1);
    // The dead rows are older, but only waiting rows (received, failed) count for the age.
    const oldestWaiting = sampleValue(m, 'stripe_webhook_inbox_oldest_waiting_seconds')!;
    expect(oldestWaiting).toBeGreaterThanOrEqual(120);
    expect(oldestWaiting).toBeLessThan(1000);

    expect(sampleValue(m, 'connect_event_deliveries_pending', { stage: 'first_attempt' })).toBe(2);
    expect(sampleValue(m, 'connect_event_deliveries_pending', { stage: 'retrying' })).toBe(1);
    expect(sampleValue(m, 'connect_event_outbox_backlog')).toBe(3);
    const oldestDelivery = sampleValue(m, 'connect_event_delivery_oldest_pending_seconds')!;
    expect(oldestDelivery).toBeGreaterThanOrEqual(300);
    expect(oldestDelivery).toBeLessThan(1000);

    expect(sampleValue(m, 'connect_job_queue_pending', { queue: DISPATCH_QUEUE, state: 'created' })).toBe(2);
    // Every defined queue has its series, a drained one at 0.
    expect(
      sampleValue(m, 'connect_job_queue_pending', {
        queue: 'webhooks.process-stripe-event',
        state: 'created',
      }),
    ).toBe(0);
    expect(sampleValue(m, 'connect_metrics_scrape_errors_total', { reading: 'connect_accounts' })).toBe(
      undefined,
    );
  });

  it('answers the last values during a database outage, counts the failed readings and shows readiness drop', async () => {
    expect((await api(t)('GET', '/health/ready')).status).toBe(200);
    const before = await scrape();
    expect(sampleValue(before, 'connect_ready')).toBe(1);
    const changesBefore = sampleValue(before, 'connect_readiness_changes_total') ?? 0;
    await proxy.stop();
    try {
      expect((await api(t)('GET', '/health/ready')).status).toBe(503);
      const during = await scrape();
      expect(sampleValue(during, 'connect_ready')).toBe(0);
      expect(sampleValue(during, 'connect_readiness_changes_total')).toBe(changesBefore + 1);
      for (const [name, labels] of [
        ['connect_accounts', { status: 'active' }],
        ['stripe_webhook_inbox_events', { status: 'dead' }],
        ['connect_event_deliveries_pending', { stage: 'retrying' }],
        ['connect_job_queue_pending', { queue: DISPATCH_QUEUE, state: 'created' }],
      ] as const) {
        expect([name, sampleValue(during, name, labels)]).toEqual([name, sampleValue(before, name, labels)]);
      }
      // A scrape serialises the error counter while the readings are still running: the next scrape shows them.
      const after = await scrape();
      for (const reading of ['connect_accounts', 'webhook_inbox', 'event_deliveries', 'job_queue']) {
        expect([reading, sampleValue(after, 'connect_metrics_scrape_errors_total', { reading })]).toEqual([
          reading,
          expect.any(Number),
        ]);
      }
    } finally {
      await proxy.start();
    }
  });
});

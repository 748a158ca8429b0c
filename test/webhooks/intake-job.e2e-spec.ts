import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { bootTestApp, TestApp } from '../support/app';
import { PLATFORM_SECRET } from './webhook-support';
import { api } from '../support/http';

/**
 * The intake writes the inbox row and its job in one statement, with SQL that knows pg-boss's job table: the job
 * must carry exactly the queue's settings, as pg-boss's own `send` would give it.
 */
describe('webhook intake enqueues its job with the queue settings, in the same statement', () => {
  let t: TestApp;
  let schema: string;

  beforeAll(async () => {
    // No workers: the job stays where the intake put it.
    t = await bootTestApp({ STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET, WORKERS_ENABLED: 'false' });
    schema = process.env.JOB_QUEUE_SCHEMA!;
  });
  afterAll(async () => t?.close());

  async function deliver(
    id: string,
  ): Promise<{ status: number; body: { received: boolean; duplicate: boolean } }> {
    const payload = JSON.stringify({
      id,
      object: 'event',
      type: 'customer.created',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: 'cus_x', object: 'customer', metadata: {} } },
    });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: PLATFORM_SECRET });
    const res = await api(t)('POST', '/connect/webhooks', {
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
    return { status: res.status, body: res.body };
  }

  it('one row and one job per event; a duplicate adds neither', async () => {
    const ds = t.app.get(DataSource);
    const id = `evt_job_${Date.now()}`;
    expect(await deliver(id)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await deliver(id)).toEqual({ status: 200, body: { received: true, duplicate: true } });

    const [row] = await ds.query(`SELECT id FROM stripe_webhook_events WHERE stripe_event_id = $1`, [id]);
    const jobs = await ds.query(
      `SELECT j.*, EXTRACT(epoch FROM j.expire_in) AS expire_seconds
         FROM ${schema}.job j WHERE j.data->>'inboxId' = $1`,
      [row.id],
    );
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job).toMatchObject({
      name: 'webhooks.process-stripe-event',
      state: 'created',
      retry_limit: 8,
      retry_delay: 2,
      retry_backoff: true,
      dead_letter: 'webhooks.process-stripe-event.dead',
      priority: 0,
    });
    expect(Number(job.expire_seconds)).toBe(300);

    // And exactly what pg-boss's own send gives a job of that queue.
    const sentId = await t.app
      .get(JobQueue)
      .send('webhooks.process-stripe-event', { inboxId: '00000000-0000-4000-8000-000000000000' });
    const cols = `retry_limit, retry_delay, retry_backoff, dead_letter, expire_in, policy, priority, singleton_key,
      round(EXTRACT(epoch FROM (keep_until - start_after)) / 60) AS keep_minutes`;
    const [sent] = await ds.query(`SELECT ${cols} FROM ${schema}.job WHERE id = $1`, [sentId]);
    const [ours] = await ds.query(`SELECT ${cols} FROM ${schema}.job WHERE id = $1`, [job.id]);
    expect(ours).toEqual(sent);
  });
});

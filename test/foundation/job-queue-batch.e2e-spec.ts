import { DataSource } from 'typeorm';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { bootTestApp, TestApp } from '../support/app';
import { eventually } from '../utils/eventually';

const QUEUE = 'test.batch';

interface TestJob {
  n: number;
  fail?: boolean;
}

/** JobQueue.workBatch on the real pg-boss: per-job outcomes and the drain's hand-back. */
describe('job queue: batch workers', () => {
  let t: TestApp;
  let ds: DataSource;
  let jobs: JobQueue;
  let schema: string;

  beforeAll(async () => {
    t = await bootTestApp({ JOB_CONCURRENCY: '2' });
    ds = t.app.get(DataSource);
    jobs = t.app.get(JobQueue);
    schema = process.env.JOB_QUEUE_SCHEMA!;
    await jobs.define({ name: QUEUE, retryLimit: 2, retryDelaySeconds: 60, retryBackoff: false });
  });
  afterAll(async () => t?.close());

  async function states(): Promise<Record<number, { state: string; retry_count: number }>> {
    const rows: Array<{ n: number; state: string; retry_count: number }> = await ds.query(
      `SELECT (data->>'n')::int AS n, state, retry_count FROM ${schema}.job WHERE name = $1`,
      [QUEUE],
    );
    return Object.fromEntries(rows.map((r) => [r.n, { state: r.state, retry_count: r.retry_count }]));
  }

  it('completes what succeeded, fails only what threw, and hands back what the drain kept from starting', async () => {
    // All in the queue before the worker starts, so its first fetch takes the whole batch.
    for (let n = 1; n <= 6; n++) await jobs.send<TestJob>(QUEUE, { n, fail: n === 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: number[] = [];
    let batches = 0;
    await jobs.workBatch<TestJob>(QUEUE, { batchSize: 10 }, async (batch) => {
      batches++;
      // Jobs 1 to 3 at once (two slots: the third waits for one), then 4 to 6 one after another.
      const first = batch.jobs.filter((j) => j.data.n <= 3);
      const rest = batch.jobs.filter((j) => j.data.n > 3).sort((a, b) => a.data.n - b.data.n);
      await Promise.all(
        first.map((job) =>
          batch.run(job, async () => {
            started.push(job.data.n);
            if (job.data.fail) throw new Error('job failed on purpose');
            if (job.data.n === 1) await gate;
          }),
        ),
      );
      for (const job of rest) {
        await batch.run(job, async () => {
          started.push(job.data.n);
          // The drain starts while job 4 runs: 5 and 6 never start.
          if (job.data.n === 4) {
            void jobs.drain();
            await eventually('draining', () => jobs.draining);
          }
        });
      }
    });

    await eventually('job 2 failed while job 1 waits', async () => (await states())[2]?.state === 'retry');
    expect((await states())[1].state).toBe('active');
    release();
    await eventually('drain handed 5 and 6 back', async () => {
      const s = await states();
      return s[5]?.state === 'created' && s[6]?.state === 'created' && s[4]?.state === 'completed';
    });
    expect(await states()).toEqual({
      1: { state: 'completed', retry_count: 0 },
      2: { state: 'retry', retry_count: 0 },
      3: { state: 'completed', retry_count: 0 },
      4: { state: 'completed', retry_count: 0 },
      5: { state: 'created', retry_count: 0 },
      6: { state: 'created', retry_count: 0 },
    });
    expect(started.sort()).toEqual([1, 2, 3, 4]);
    expect(batches).toBe(1);
  });
});

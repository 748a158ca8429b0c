import { DataSource } from 'typeorm';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { bootTestApp, TestApp } from '../support/app';
import { eventually } from '../utils/eventually';

const OLD = 'test.old-name';
const NEW = 'test.new-name';
const NEVER = 'test.never-existed';

/** A renamed queue on the real pg-boss: jobs queued under the former name before the upgrade still run. */
describe('job queue: renamed queues', () => {
  let t: TestApp;
  let ds: DataSource;
  let jobs: JobQueue;
  let schema: string;

  beforeAll(async () => {
    t = await bootTestApp();
    ds = t.app.get(DataSource);
    jobs = t.app.get(JobQueue);
    schema = process.env.JOB_QUEUE_SCHEMA!;
  });
  afterAll(async () => t?.close());

  it('works the former name with the same handler, drops its cron, and never creates a name that was not there', async () => {
    // The previous release: its queue, two jobs nobody worked yet, and its cron.
    const settings = { retryLimit: 1, retryDelaySeconds: 1, retryBackoff: false };
    await jobs.define({ name: OLD, ...settings });
    for (const n of [1, 2]) await jobs.send(OLD, { n });
    await jobs.schedule(OLD, '0 0 1 1 *');

    // This release: the same queue under its new name.
    await jobs.define({ name: NEW, formerNames: [OLD, NEVER], ...settings });
    await jobs.schedule(NEW, '0 0 1 1 *');
    await jobs.send(NEW, { n: 3 });
    const seen: number[] = [];
    await jobs.work<{ n: number }>(NEW, { batchSize: 5 }, async (job) => {
      seen.push(job.data.n);
    });

    await eventually('all three jobs handled', () => seen.length === 3);
    expect(seen.sort()).toEqual([1, 2, 3]);
    const states = (await ds.query(
      `SELECT name, state FROM ${schema}.job WHERE name IN ($1, $2) ORDER BY name`,
      [OLD, NEW],
    )) as { name: string; state: string }[];
    await eventually('jobs completed', async () => {
      const rows = (await ds.query(
        `SELECT count(*)::int AS n FROM ${schema}.job WHERE name IN ($1, $2) AND state = 'completed'`,
        [OLD, NEW],
      )) as { n: number }[];
      return rows[0].n === 3;
    });
    expect(states.map((s) => s.name)).toEqual([NEW, OLD, OLD]);
    const schedules = (await ds.query(`SELECT name FROM ${schema}.schedule WHERE name IN ($1, $2)`, [
      OLD,
      NEW,
    ])) as {
      name: string;
    }[];
    expect(schedules.map((s) => s.name)).toEqual([NEW]);
    const never = (await ds.query(`SELECT name FROM ${schema}.queue WHERE name = $1`, [NEVER])) as unknown[];
    expect(never).toEqual([]);
  });
});

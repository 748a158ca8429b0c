import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { Sql } from '@app/database';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ConcurrencyLimit } from './concurrency-limit';
import { inSpan, SpanKind, withTraceContext } from '../tracing/trace-context';
import { jobQueueReading } from './job-queue-metrics';
import {
  BatchHandler,
  JOB_QUEUE_OPTIONS,
  JobBatch,
  JobHandler,
  JobQueueDrainingError,
  JobQueueOptions,
  QueueDefinition,
  QueuedJob,
} from './job-queue.types';
import { JobOutcomes } from './job-outcomes';
import { PgBossJobsRepository, poolExecutor, transactionExecutor } from './pg-boss-jobs.repository';

export * from './job-queue.types';

/** How long a drain waits for running jobs before handing them back to the queue. */
const DRAIN_TIMEOUT_MS = 10_000;
interface WorkerLoop {
  name: string;
  wake: () => void;
  done: Promise<void>;
}

/**
 * The PostgreSQL job queue (pg-boss): transactional enqueue, retries with backoff, dead letters, and
 * any number of workers across replicas (pg-boss fetches with SKIP LOCKED).
 *
 * Two pools, so the request path and the workers cannot starve each other: pg-boss's own statements (fetch,
 * complete, fail, maintenance, cron) run on a small pool of their own, and the handlers, which use TypeORM's pool,
 * are capped at `concurrency` at once across every queue of this replica.
 *
 * The worker loops are ours rather than pg-boss's `work()`: pg-boss does not await its own `complete`/`fail`, so a
 * database restart while a job finishes became an unhandled rejection that ended the process. Here completion and
 * failure are awaited and retried while the database is away, and a drain (SIGTERM) stops fetching, lets running
 * jobs finish and hands the rest back to the queue.
 */
@Injectable()
export class JobQueue implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('JobQueue');
  private boss!: PgBoss;
  private pool?: Pool;
  private readonly defined = new Set<string>();
  private readonly retryLimits = new Map<string, number>();
  /** Former names of a queue that still exist here (upgraded databases): worked beside the new name for a release. */
  private readonly former = new Map<string, string[]>();
  private tables?: PgBossJobsRepository;
  private readonly loops: WorkerLoop[] = [];
  /** Jobs whose handler is running now, by queue: what a drain that runs out of time hands back. */
  private readonly running = new Map<string, Set<string>>();
  private limit!: ConcurrencyLimit;
  private stopping = false;
  private drained?: Promise<void>;
  private readonly outcomes: JobOutcomes;
  private releaseReading?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(JOB_QUEUE_OPTIONS) private readonly options: JobQueueOptions,
  ) {
    this.outcomes = new JobOutcomes(
      this.logger,
      () => this.boss,
      () => this.tables,
    );
  }

  async onModuleInit(): Promise<void> {
    this.limit = new ConcurrencyLimit(Math.max(1, this.options.concurrency));
    // Same server and credentials as TypeORM's pool (embedded or DATABASE_URL alike), fewer connections.
    const main = (this.dataSource.driver as PostgresDriver).master as Pool & {
      options: Record<string, unknown>;
    };
    const pool = new Pool({
      ...main.options,
      max: Math.max(1, this.options.poolSize),
      application_name: 'connect-service-jobs',
    });
    // An idle client whose server went away emits here; without a listener pg rethrows it and the process ends.
    pool.on('error', (err: Error) => this.outcomes.warnOnce('pool', `job queue pool: ${err.message}`));
    this.pool = pool;
    this.boss = new PgBoss({
      db: poolExecutor(pool),
      schema: this.options.schema,
      // Completed jobs are kept a day for inspection; the inbox and outbox tables are the durable record.
      deleteAfterDays: 1,
      archiveCompletedAfterSeconds: 3600,
      monitorStateIntervalSeconds: 30,
    });
    // Maintenance, monitoring and cron failures (e.g. the database restarting) arrive here, never as a crash.
    this.boss.on('error', (err: Error) => this.outcomes.warnOnce('boss', `pg-boss: ${err.message}`));
    await this.boss.start();
    const tables = new PgBossJobsRepository(pool, this.options.schema);
    this.tables = tables;
    this.releaseReading = jobQueueReading.use(() => tables.waitingCounts());
  }

  /** Before the HTTP server and TypeORM's pool close, so running jobs can still commit. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    this.releaseReading?.();
    await this.drain();
    await this.boss?.stop({ graceful: false, close: false, wait: true }).catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
  }

  /**
   * Stops taking jobs on this replica: idle loops end at once, running handlers get up to DRAIN_TIMEOUT_MS to
   * finish (and complete), and whatever still runs after that is handed back to the queue for another replica.
   * Jobs fetched but not started are handed back at once. Idempotent.
   */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      this.stopping = true;
      this.limit?.close();
      for (const loop of this.loops) loop.wake();
      const all = Promise.all(this.loops.map((l) => l.done));
      const finished = await Promise.race([
        all.then(() => true),
        sleep(DRAIN_TIMEOUT_MS, false, { ref: false }),
      ]);
      if (finished) return;
      for (const [name, ids] of this.running) {
        if (!ids.size) continue;
        this.logger.warn(
          `drain: ${ids.size} job(s) of ${name} still running after ${DRAIN_TIMEOUT_MS} ms: handed back`,
        );
        await this.outcomes.handBack(name, [...ids]);
      }
    })();
    return this.drained;
  }

  get draining(): boolean {
    return this.stopping;
  }

  get workersEnabled(): boolean {
    return this.options.workersEnabled;
  }

  /** Creates the queue and its dead-letter queue (idempotent, safe on every replica). */
  async define(def: QueueDefinition): Promise<void> {
    if (this.defined.has(def.name)) return;
    const dead = `${def.name}.dead`;
    await this.boss.createQueue(dead, { name: dead, retentionDays: 14 });
    await this.boss.createQueue(def.name, {
      name: def.name,
      retryLimit: def.retryLimit,
      retryDelay: def.retryDelaySeconds,
      retryBackoff: def.retryBackoff,
      expireInSeconds: def.expireInSeconds ?? 300,
      deadLetter: dead,
    });
    this.defined.add(def.name);
    this.retryLimits.set(def.name, def.retryLimit);
    const former: string[] = [];
    for (const old of def.formerNames ?? []) if (await this.boss.getQueue(old)) former.push(old);
    this.former.set(def.name, former);
    // Dead letters left under a former name go to the handler of this queue's dead letters, if it has one.
    this.former.set(
      dead,
      former.map((old) => `${old}.dead`),
    );
  }

  /**
   * Enqueues a job. With `manager` (inside a TypeORM transaction) the job commits or rolls back with the
   * caller's state change: this is what makes "stored" and "will be processed" one fact.
   */
  async send<T extends object>(
    name: string,
    data: T,
    opts: { manager?: EntityManager; startAfterSeconds?: number; singletonKey?: string } = {},
  ): Promise<string | null> {
    const sendOptions: PgBoss.SendOptions = {};
    if (opts.startAfterSeconds) sendOptions.startAfter = opts.startAfterSeconds;
    if (opts.singletonKey) sendOptions.singletonKey = opts.singletonKey;
    if (opts.manager) sendOptions.db = transactionExecutor(opts.manager);
    // The sender's trace context rides in the job (W3C `traceparent`), so the worker's span continues its trace.
    return this.boss.send(name, withTraceContext(data), sendOptions);
  }

  /**
   * SQL that enqueues one job per row of `source` (a CTE of the caller's statement), with `dataSql` as each job's
   * data, taking the queue's own settings the way pg-boss's `send` does: a hot path writes its row and its job in
   * ONE statement. Text form for statements that number their own `$n`; `insertJobsFrom` is the tag form.
   */
  insertJobsFromSql(name: string, source: string, dataSql: string): string {
    if (!this.defined.has(name)) throw new Error(`queue ${name} is not defined`);
    return this.jobTables().insertJobsFromText(name, source, dataSql);
  }

  /** `insertJobsFromSql` as a fragment of the `sql` tag: `source` a CTE named in the caller's statement. */
  insertJobsFrom(name: string, source: Sql, data: Sql): Sql {
    if (!this.defined.has(name)) throw new Error(`queue ${name} is not defined`);
    return this.jobTables().insertJobsFrom(name, source, data);
  }

  private jobTables(): PgBossJobsRepository {
    if (!this.tables) throw new Error('the job queue has not started');
    return this.tables;
  }

  /**
   * Starts `concurrency` worker loops for a queue on this replica (no-op when workers are disabled). Each loop takes
   * a slot of the replica-wide limit, fetches a batch, runs it one job at a time, completes what succeeded and
   * fails what threw (pg-boss retries it, then dead-letters it). A loop that got a full batch asks for the next one
   * at once, so a backlog drains at processing speed and only an idle queue is polled.
   */
  async work<T>(
    name: string,
    opts: { batchSize?: number; concurrency?: number },
    handler: JobHandler<T>,
  ): Promise<void> {
    const batchSize = opts.batchSize ?? 1;
    this.startLoops(name, opts.concurrency, batchSize, () => this.runOnce(name, batchSize, handler));
    for (const old of this.former.get(name) ?? [])
      this.startLoops(old, 1, batchSize, () => this.runOnce(old, batchSize, handler));
  }

  /**
   * Like `work`, but the handler gets each fetched batch whole (JobBatch): it may prepare the batch with a few
   * queries, then runs every job through `batch.run`, each in a slot of its own, so up to the replica-wide limit of
   * one batch's jobs run at once. What succeeded is completed in one call, what threw is failed job by job.
   */
  async workBatch<T>(
    name: string,
    opts: { batchSize: number; concurrency?: number },
    handler: BatchHandler<T>,
  ): Promise<void> {
    this.startLoops(name, opts.concurrency, opts.batchSize, () =>
      this.runBatch(name, opts.batchSize, handler),
    );
    for (const old of this.former.get(name) ?? [])
      this.startLoops(old, 1, opts.batchSize, () => this.runBatch(old, opts.batchSize, handler));
  }

  private startLoops(
    name: string,
    concurrency: number | undefined,
    batchSize: number,
    once: () => Promise<number>,
  ): void {
    if (!this.options.workersEnabled || this.stopping) return;
    const loops = Math.max(1, concurrency ?? 1);
    for (let i = 0; i < loops; i++) {
      const wakeup = { abort: new AbortController(), notified: false };
      const loop: WorkerLoop = {
        name,
        wake: () => {
          wakeup.notified = true;
          wakeup.abort.abort();
        },
        done: Promise.resolve(),
      };
      const idle = async (ms: number) => {
        if (wakeup.notified || this.stopping) return;
        await sleep(ms, undefined, { signal: wakeup.abort.signal }).catch(() => undefined);
      };
      loop.done = (async () => {
        while (!this.stopping) {
          wakeup.notified = false;
          if (wakeup.abort.signal.aborted) wakeup.abort = new AbortController();
          const got = await once();
          if (got < batchSize) await idle(this.options.pollingIntervalSeconds * 1000);
        }
      })().catch((err: unknown) => {
        // runOnce and runBatch catch everything they await; this is the belt to their braces.
        this.logger.error(
          `worker loop of ${name} ended: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      this.loops.push(loop);
    }
  }

  /** One fetch and its batch, inside one slot of the replica-wide limit. Returns how many jobs it got. */
  private async runOnce<T>(name: string, batchSize: number, handler: JobHandler<T>): Promise<number> {
    const release = await this.limit.acquire();
    if (!release) return 0;
    try {
      if (this.stopping) return 0;
      // pg-boss's fetch answers [] when the database is unreachable; the loop then idles a polling interval.
      const jobs = await this.boss.fetch<T>(name, { batchSize, includeMetadata: true });
      if (!jobs?.length) return 0;
      const running = this.running.get(name) ?? new Set<string>();
      this.running.set(name, running);
      const succeeded: string[] = [];
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i];
        if (this.stopping) {
          // Fetched but not started: straight back to the queue rather than waiting out the drain.
          await this.outcomes.handBack(
            name,
            jobs.slice(i).map((j) => j.id),
          );
          break;
        }
        running.add(job.id);
        try {
          await this.inJobSpan(name, job, () =>
            handler({ id: job.id, data: job.data, retryCount: job.retryCount }),
          );
          succeeded.push(job.id);
        } catch (err) {
          await this.outcomes.fail(name, job, err, this.retryLimits.get(name));
        } finally {
          running.delete(job.id);
        }
      }
      if (succeeded.length) await this.outcomes.settle('complete', () => this.boss.complete(name, succeeded));
      return jobs.length;
    } catch (err) {
      this.outcomes.warnOnce(
        `fetch:${name}`,
        `job queue ${name}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return 0;
    } finally {
      release();
    }
  }

  /**
   * One fetch and its batch for a batch handler. The fetch itself takes no slot (the jobs run in slots of their
   * own); a job's failure is recorded as it ends, the successes are completed together once the handler returns.
   */
  private async runBatch<T>(name: string, batchSize: number, handler: BatchHandler<T>): Promise<number> {
    if (this.stopping) return 0;
    let jobs: PgBoss.JobWithMetadata<T>[];
    try {
      // pg-boss's fetch answers [] when the database is unreachable; the loop then idles a polling interval.
      jobs = await this.boss.fetch<T>(name, { batchSize, includeMetadata: true });
    } catch (err) {
      this.outcomes.warnOnce(
        `fetch:${name}`,
        `job queue ${name}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return 0;
    }
    if (!jobs?.length) return 0;
    const running = this.running.get(name) ?? new Set<string>();
    this.running.set(name, running);
    const taken = new Set<string>();
    const succeeded: string[] = [];
    const runs: Promise<void>[] = [];
    const runJob = async (job: QueuedJob<T>, work: () => Promise<void>): Promise<void> => {
      const release = await this.limit.acquire();
      if (!release || this.stopping) {
        release?.();
        // Fetched but not started: straight back to the queue rather than waiting out the drain.
        await this.outcomes.handBack(name, [job.id]);
        return;
      }
      running.add(job.id);
      let failed = false;
      let error: unknown;
      try {
        await this.inJobSpan(name, job, work);
        succeeded.push(job.id);
      } catch (err) {
        failed = true;
        error = err;
      } finally {
        running.delete(job.id);
        release();
      }
      if (failed) await this.outcomes.fail(name, job, error);
    };
    const batch: JobBatch<T> = {
      jobs: jobs.map((j) => ({ id: j.id, data: j.data, retryCount: j.retryCount })),
      run: (job, work) => {
        if (taken.has(job.id)) return Promise.resolve();
        taken.add(job.id);
        const done = runJob(job, work);
        runs.push(done);
        return done;
      },
      step: async (work) => {
        const release = await this.limit.acquire();
        if (!release || this.stopping) {
          release?.();
          throw new JobQueueDrainingError();
        }
        try {
          return await work();
        } finally {
          release();
        }
      },
    };
    let batchError: unknown = undefined;
    try {
      await handler(batch);
    } catch (err) {
      batchError = err ?? new Error('batch failed');
    }
    await Promise.all(runs);
    const untouched = batch.jobs.filter((j) => !taken.has(j.id));
    if (untouched.length) {
      if (this.stopping || batchError === undefined || batchError instanceof JobQueueDrainingError) {
        await this.outcomes.handBack(
          name,
          untouched.map((j) => j.id),
        );
      } else {
        // The batch-wide work failed (e.g. the database went away): its jobs are retried with the queue's backoff.
        for (const job of untouched) await this.outcomes.fail(name, job, batchError);
      }
    }
    if (succeeded.length) await this.outcomes.settle('complete', () => this.boss.complete(name, succeeded));
    return jobs.length;
  }

  private inJobSpan<T>(name: string, job: QueuedJob<T>, work: () => Promise<void>): Promise<void> {
    return inSpan(
      `job ${name}`,
      {
        kind: SpanKind.CONSUMER,
        carrier: job.data as object,
        attributes: {
          'messaging.system': 'pg-boss',
          'messaging.destination.name': name,
          'messaging.message.id': job.id,
        },
      },
      work,
    );
  }

  /**
   * Wakes this replica's idle workers of `name` (e.g. right after the transaction that enqueued a job committed),
   * so the job starts now rather than at the next poll. Other replicas still find it at their next poll.
   */
  notify(name: string): void {
    for (const loop of this.loops) if (loop.name === name) loop.wake();
  }

  /**
   * Enqueues `name` on a cron (UTC). pg-boss stores one schedule per name and its clock enqueues once per tick
   * whatever the number of replicas, so every replica may call this at boot. Define the queue first.
   */
  async schedule(name: string, cron: string, data: object = {}): Promise<void> {
    await this.boss.schedule(name, cron, data, { tz: 'UTC' });
    // A renamed queue's old cron would go on enqueuing under the old name: one schedule per job, the new one.
    for (const old of this.former.get(name) ?? []) await this.boss.unschedule(old);
  }

  async queueSize(name: string): Promise<number> {
    return this.boss.getQueueSize(name);
  }
}

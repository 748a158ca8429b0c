import { reportError } from '../error-tracking/error-tracking';
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
import { Counter, register } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ConcurrencyLimit } from './concurrency-limit';
import { inSpan, SpanKind, withTraceContext } from '../tracing/trace-context';
import { jobQueueReading, QueueCount, waitingJobsSql } from './job-queue-metrics';

export const JOB_QUEUE_OPTIONS = Symbol('JOB_QUEUE_OPTIONS');

export interface JobQueueOptions {
  /** pg-boss schema; tests give each app its own so suites sharing one database do not steal each other's jobs. */
  schema: string;
  /** false: enqueue only (e.g. CLI scripts); workers run elsewhere. */
  workersEnabled: boolean;
  pollingIntervalSeconds: number;
  /** Handlers running at once, all queues together: the most main-pool connections the workers can hold. */
  concurrency: number;
  /** Connections of pg-boss's own pool (fetch, complete, fail, maintenance). */
  poolSize: number;
}

export interface QueueDefinition {
  name: string;
  /** Attempts after the first before the job goes to `${name}.dead`. */
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  expireInSeconds?: number;
}

export interface QueuedJob<T> {
  id: string;
  data: T;
  retryCount: number;
}

export type JobHandler<T> = (job: QueuedJob<T>) => Promise<void>;

/**
 * One fetched batch, for a handler that does batch-wide work (one query for all its jobs) and then runs each job
 * on its own through `run`. Jobs it never passes to `run` go back to the queue.
 */
export interface JobBatch<T> {
  jobs: QueuedJob<T>[];
  /**
   * Runs one job's work inside a slot of the replica-wide limit (it may hold a main-pool connection) and records
   * the outcome: completed with the batch when it resolves, failed (and retried by pg-boss) when it throws. While
   * draining, a job not started yet is handed back instead. Never throws.
   */
  run(job: QueuedJob<T>, work: () => Promise<void>): Promise<void>;
  /** Batch-wide work that needs a main-pool connection, inside a slot; throws JobQueueDrainingError while draining. */
  step<R>(work: () => Promise<R>): Promise<R>;
}

export type BatchHandler<T> = (batch: JobBatch<T>) => Promise<void>;

/** A batch step asked for a slot while the replica drains: the batch's jobs not started go back to the queue. */
export class JobQueueDrainingError extends Error {
  constructor() {
    super('the job queue is draining');
    this.name = 'JobQueueDrainingError';
  }
}

/** How long a drain waits for running jobs before handing them back to the queue. */
const DRAIN_TIMEOUT_MS = 10_000;
/** How long a job's completion (or failure) is retried while the database is away before the job is left to expire. */
const SETTLE_RETRY_MS = 30_000;

const jobQueueErrors =
  (register.getSingleMetric('connect_job_queue_errors_total') as Counter<'operation'> | undefined) ??
  new Counter({
    name: 'connect_job_queue_errors_total',
    help: 'Job queue operations that failed on the database and were retried or left to expire, by operation',
    labelNames: ['operation'],
  });

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
  private readonly loops: WorkerLoop[] = [];
  /** Jobs whose handler is running now, by queue: what a drain that runs out of time hands back. */
  private readonly running = new Map<string, Set<string>>();
  private limit!: ConcurrencyLimit;
  private stopping = false;
  private drained?: Promise<void>;
  private lastWarning = new Map<string, number>();
  private releaseReading?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(JOB_QUEUE_OPTIONS) private readonly options: JobQueueOptions,
  ) {}

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
    pool.on('error', (err: Error) => this.warnOnce('pool', `job queue pool: ${err.message}`));
    this.pool = pool;
    this.boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: this.options.schema,
      // Completed jobs are kept a day for inspection; the inbox and outbox tables are the durable record.
      deleteAfterDays: 1,
      archiveCompletedAfterSeconds: 3600,
      monitorStateIntervalSeconds: 30,
    });
    // Maintenance, monitoring and cron failures (e.g. the database restarting) arrive here, never as a crash.
    this.boss.on('error', (err: Error) => this.warnOnce('boss', `pg-boss: ${err.message}`));
    await this.boss.start();
    const sql = waitingJobsSql(this.options.schema);
    this.releaseReading = jobQueueReading.use(async () => (await pool.query<QueueCount>(sql)).rows);
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
        await this.handBack(name, [...ids]);
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
    if (opts.manager) {
      const manager = opts.manager;
      sendOptions.db = {
        executeSql: async (text, values) => ({ rows: (await manager.query(text, values)) as unknown[] }),
      };
    }
    // The sender's trace context rides in the job (W3C `traceparent`), so the worker's span continues its trace.
    return this.boss.send(name, withTraceContext(data), sendOptions);
  }

  /**
   * SQL that enqueues one job per row of `source` (a CTE of the caller's statement), with `dataSql` as each job's
   * data, taking the queue's own retry, expiry, retention and dead-letter settings the way pg-boss's `send` does.
   * It lets a hot path write its row and its job in ONE statement (atomic by itself) instead of a four-round-trip
   * transaction — the webhook intake does. It knows pg-boss 10's job table, so it lives here beside the rest of the
   * pg-boss wiring, and the intake e2e suites (which process what it enqueues) guard it.
   */
  insertJobsFromSql(name: string, source: string, dataSql: string): string {
    if (!this.defined.has(name)) throw new Error(`queue ${name} is not defined`);
    if (!/^[\w.-]+$/.test(name) || !/^\w+$/.test(source)) throw new Error('unsafe queue or source name');
    const schema = this.options.schema;
    return `INSERT INTO ${schema}.job (name, data, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
      SELECT q.name, ${dataSql}, q.dead_letter,
        COALESCE(q.expire_seconds, 900) * interval '1s',
        now() + COALESCE(q.retention_minutes * interval '1 minute', interval '14 days'),
        COALESCE(q.retry_limit, 2),
        CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(COALESCE(q.retry_delay, 0), 1) ELSE COALESCE(q.retry_delay, 0) END,
        COALESCE(q.retry_backoff, false),
        q.policy
      FROM ${source} JOIN ${schema}.queue q ON q.name = '${name}'
      RETURNING id`;
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
          await this.handBack(
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
          await this.failJob(name, job, err);
        } finally {
          running.delete(job.id);
        }
      }
      if (succeeded.length) await this.settle('complete', () => this.boss.complete(name, succeeded));
      return jobs.length;
    } catch (err) {
      this.warnOnce(
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
      this.warnOnce(
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
        await this.handBack(name, [job.id]);
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
      if (failed) await this.failJob(name, job, error);
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
        await this.handBack(
          name,
          untouched.map((j) => j.id),
        );
      } else {
        // The batch-wide work failed (e.g. the database went away): its jobs are retried with the queue's backoff.
        for (const job of untouched) await this.failJob(name, job, batchError);
      }
    }
    if (succeeded.length) await this.settle('complete', () => this.boss.complete(name, succeeded));
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

  private async failJob<T>(name: string, job: QueuedJob<T>, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    // pg-boss records the failure on the job row; say it in the log too, so a failing handler is visible.
    this.logger.warn(`job ${name} ${job.id} failed (retry ${job.retryCount}): ${message}`);
    // Reported once, when this failure sends the job to its dead letter, not on every retry.
    if (job.retryCount >= (this.retryLimits.get(name) ?? Infinity))
      reportError(err, { kind: 'dead_letter', job: name });
    await this.settle('fail', () =>
      this.boss.fail(name, job.id, { message, name: err instanceof Error ? err.name : 'Error' }),
    );
  }

  /**
   * Completes or fails jobs, retrying while the database is away (a restart, a failover). If it never comes back
   * in time the job stays active until it expires and runs again, which the handlers make harmless (the inbox row,
   * the delivery row and the payment route each record what was already done).
   */
  private async settle(operation: 'complete' | 'fail', op: () => Promise<unknown>): Promise<void> {
    const giveUpAt = Date.now() + SETTLE_RETRY_MS;
    let delay = 200;
    for (;;) {
      try {
        await op();
        return;
      } catch (err) {
        jobQueueErrors.inc({ operation });
        if (Date.now() + delay > giveUpAt) {
          this.logger.warn(
            `job ${operation} failed for ${SETTLE_RETRY_MS} ms (${err instanceof Error ? err.message : String(err)}): ` +
              'the job stays active until it expires, then runs again',
          );
          return;
        }
        this.warnOnce(
          `settle:${operation}`,
          `job ${operation} failed, retrying: ${err instanceof Error ? err.message : String(err)}`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /**
   * Puts active jobs back to `created` (retry count untouched) so any replica fetches them again now. It knows
   * pg-boss 10's job table, like insertJobsFromSql. Best effort: a job it cannot reach expires and runs again.
   */
  private async handBack(name: string, ids: string[]): Promise<void> {
    if (!ids.length || !this.pool) return;
    try {
      await this.pool.query(
        `UPDATE ${this.options.schema}.job SET state = 'created', started_on = NULL
          WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`,
        [name, ids],
      );
    } catch (err) {
      jobQueueErrors.inc({ operation: 'hand_back' });
      this.logger.warn(
        `could not hand ${ids.length} job(s) of ${name} back (${err instanceof Error ? err.message : String(err)}): they expire and run again`,
      );
    }
  }

  /** One warning per kind a minute: an outage must not flood the log. */
  private warnOnce(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarning.get(kind) ?? 0) < 60_000) return;
    this.lastWarning.set(kind, now);
    this.logger.warn(message);
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
  }

  async queueSize(name: string): Promise<number> {
    return this.boss.getQueueSize(name);
  }
}

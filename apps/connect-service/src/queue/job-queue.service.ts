import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { inSpan, SpanKind, withTraceContext } from '../tracing/trace-context';
import { jobQueueReading, QueueCount, waitingJobsSql } from './job-queue-metrics';

export const JOB_QUEUE_OPTIONS = Symbol('JOB_QUEUE_OPTIONS');

export interface JobQueueOptions {
  /** pg-boss schema; tests give each app its own so suites sharing one database do not steal each other's jobs. */
  schema: string;
  /** false: enqueue only (e.g. CLI scripts); workers run elsewhere. */
  workersEnabled: boolean;
  pollingIntervalSeconds: number;
}

export interface QueueDefinition {
  name: string;
  /** Attempts after the first before the job goes to `${name}.dead`. */
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  expireInSeconds?: number;
}

export type JobHandler<T> = (job: { id: string; data: T; retryCount: number }) => Promise<void>;

/**
 * The PostgreSQL job queue (pg-boss): transactional enqueue, retries with backoff, dead letters, and
 * any number of workers across replicas (pg-boss fetches with SKIP LOCKED). It runs on TypeORM's own pool, so
 * the embedded database and DATABASE_URL work alike and no second pool is opened.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('JobQueue');
  private boss!: PgBoss;
  private readonly defined = new Set<string>();
  private readonly workerIds = new Map<string, string[]>();
  private releaseReading?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(JOB_QUEUE_OPTIONS) private readonly options: JobQueueOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    this.boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: this.options.schema,
      // Completed jobs are kept a day for inspection; the inbox and outbox tables are the durable record.
      deleteAfterDays: 1,
      archiveCompletedAfterSeconds: 3600,
      monitorStateIntervalSeconds: 30,
    });
    this.boss.on('error', (err: Error) => this.logger.warn(`pg-boss: ${err.message}`));
    await this.boss.start();
    const sql = waitingJobsSql(this.options.schema);
    this.releaseReading = jobQueueReading.use(async () => (await pool.query<QueueCount>(sql)).rows);
  }

  async onApplicationShutdown(): Promise<void> {
    this.releaseReading?.();
    // graceful: let active jobs finish (up to the timeout) before the pool closes. The pool is TypeORM's.
    await this.boss
      ?.stop({ graceful: true, close: false, timeout: 10_000, wait: true })
      .catch(() => undefined);
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
   * Starts workers for a queue on this replica (no-op when workers are disabled). pg-boss waits a polling
   * interval between fetches even when jobs were found; a worker that got a full batch asks for the next one at
   * once, so a backlog drains at processing speed and only an idle queue is polled.
   */
  async work<T>(
    name: string,
    opts: { batchSize?: number; concurrency?: number },
    handler: JobHandler<T>,
  ): Promise<void> {
    if (!this.options.workersEnabled) return;
    const workers = Math.max(1, opts.concurrency ?? 1);
    const batchSize = opts.batchSize ?? 1;
    for (let i = 0; i < workers; i++) {
      // The loop may call the handler before work() resolves, hence a holder rather than a const.
      const worker: { id?: string } = {};
      worker.id = await this.boss.work<T>(
        name,
        { batchSize, pollingIntervalSeconds: this.options.pollingIntervalSeconds, includeMetadata: true },
        async (jobs) => {
          // One job at a time within a batch; a failing job throws so pg-boss retries it (then dead-letters it).
          for (const job of jobs) {
            try {
              await inSpan(
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
                () => handler({ id: job.id, data: job.data, retryCount: job.retryCount }),
              );
            } catch (err) {
              // pg-boss records the failure on the job row; say it in the log too, so a failing handler is visible.
              this.logger.warn(
                `job ${name} ${job.id} failed (retry ${job.retryCount}): ${err instanceof Error ? err.message : String(err)}`,
              );
              throw err;
            }
          }
          if (jobs.length >= batchSize && worker.id) this.boss.notifyWorker(worker.id);
        },
      );
      this.workerIds.set(name, [...(this.workerIds.get(name) ?? []), worker.id]);
    }
  }

  /**
   * Wakes this replica's idle workers of `name` (e.g. right after the transaction that enqueued a job committed),
   * so the job starts now rather than at the next poll. Other replicas still find it at their next poll.
   */
  notify(name: string): void {
    for (const id of this.workerIds.get(name) ?? []) this.boss.notifyWorker(id);
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

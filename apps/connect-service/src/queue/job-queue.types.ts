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
  /** `<module>.<what the job does>`, e.g. `payments.resolve-outcome`. */
  name: string;
  /**
   * Names this queue had in the previous release. Their jobs (queued before an upgrade, or by replicas still on
   * the previous release during a rolling deploy) are worked by the same handler, and their cron schedules are
   * removed; drop a former name one release after the rename.
   */
  formerNames?: readonly string[];
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

import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { Counter, register } from 'prom-client';
import { reportError } from '../error-tracking/error-tracking';
import type { QueuedJob } from './job-queue.types';
import type { PgBossJobsRepository } from './pg-boss-jobs.repository';

/** How long a job's completion (or failure) is retried while the database is away before the job is left to expire. */
const SETTLE_RETRY_MS = 30_000;

const jobQueueErrors =
  (register.getSingleMetric('connect_job_queue_errors_total') as Counter<'operation'> | undefined) ??
  new Counter({
    name: 'connect_job_queue_errors_total',
    help: 'Job queue operations that failed on the database and were retried or left to expire, by operation',
    labelNames: ['operation'],
  });

/** How a worker records what became of its jobs: completed, failed, or handed back, through database outages. */
export class JobOutcomes {
  private readonly lastWarning = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly boss: () => PgBoss,
    private readonly tables: () => PgBossJobsRepository | undefined,
  ) {}

  async fail<T>(name: string, job: QueuedJob<T>, err: unknown, retryLimit = Infinity): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    // pg-boss records the failure on the job row; say it in the log too, so a failing handler is visible.
    this.logger.warn(`job ${name} ${job.id} failed (retry ${job.retryCount}): ${message}`);
    // Reported once, when this failure sends the job to its dead letter, not on every retry.
    if (job.retryCount >= retryLimit) reportError(err, { kind: 'dead_letter', job: name });
    await this.settle('fail', () =>
      this.boss().fail(name, job.id, { message, name: err instanceof Error ? err.name : 'Error' }),
    );
  }

  /**
   * Completes or fails jobs, retrying while the database is away (a restart, a failover). If it never comes back
   * in time the job stays active until it expires and runs again, which the handlers make harmless (the inbox row,
   * the delivery row and the payment route each record what was already done).
   */
  async settle(operation: 'complete' | 'fail', op: () => Promise<unknown>): Promise<void> {
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
   * Puts active jobs back to `created` (retry count untouched) so any replica fetches them again now. Best
   * effort: a job it cannot reach expires and runs again.
   */
  async handBack(name: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const tables = this.tables();
    if (!tables) return;
    try {
      await tables.handBack(name, ids);
    } catch (err) {
      jobQueueErrors.inc({ operation: 'hand_back' });
      this.logger.warn(
        `could not hand ${ids.length} job(s) of ${name} back (${err instanceof Error ? err.message : String(err)}): they expire and run again`,
      );
    }
  }

  /** One warning per kind a minute: an outage must not flood the log. */
  warnOnce(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarning.get(kind) ?? 0) < 60_000) return;
    this.lastWarning.set(kind, now);
    this.logger.warn(message);
  }
}

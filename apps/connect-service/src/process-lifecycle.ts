import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Counter, register } from 'prom-client';
import { reportError } from './error-tracking/error-tracking';
import { Lifecycle } from './health/lifecycle.service';
import { JobQueue } from './queue/job-queue.service';

const unhandledErrors =
  (register.getSingleMetric('connect_process_unhandled_errors_total') as Counter<'kind'> | undefined) ??
  new Counter({
    name: 'connect_process_unhandled_errors_total',
    help: 'Errors that reached the process-level handler (a bug at their source: every fault path handles its own)',
    labelNames: ['kind'],
  });

/**
 * The last line of defence, not a fault path: every known failure (database, Redis, Stripe, pg-boss) is handled
 * where it happens. Whatever still arrives here is logged with an error id and counted, so it is seen and fixed.
 * An unhandled rejection leaves the process consistent and it keeps serving; after an uncaught exception Node's
 * state is unknown (https://nodejs.org/api/process.html#warning-using-uncaughtexception-correctly), so the replica
 * drains and exits for the orchestrator to replace it.
 */
export function installProcessSafetyNet(onFatal: () => void): void {
  const logger = new Logger('Process');
  process.on('unhandledRejection', (reason: unknown) => {
    unhandledErrors.inc({ kind: 'unhandled_rejection' });
    reportError(reason, { kind: 'unhandled_rejection' });
    logger.error({ error_id: randomUUID(), err: reason }, 'Unhandled promise rejection');
  });
  process.on('uncaughtException', (err: Error) => {
    unhandledErrors.inc({ kind: 'uncaught_exception' });
    // Sent during the drain: the error tracker is flushed when the app closes.
    reportError(err, { kind: 'uncaught_exception' });
    logger.fatal({ error_id: randomUUID(), err }, 'Uncaught exception: draining and exiting');
    onFatal();
  });
}

export interface DrainOptions {
  /** How long the listener stays open after SIGTERM with readiness 503, so load balancers stop routing first. */
  readinessDelayMs: number;
  /** The whole drain's deadline; past it the process exits anyway (before Kubernetes' SIGKILL). */
  timeoutMs: number;
}

/**
 * SIGTERM, in order: readiness turns 503 and the job workers stop taking jobs (running ones finish or go back to
 * the queue); after `readinessDelayMs` the listener closes and in-flight requests finish; then pg-boss, the pools
 * and Redis close. Resolves with the exit code: 0 drained, 1 past the deadline.
 */
export async function drainAndClose(
  app: NestFastifyApplication,
  opts: DrainOptions,
  after: () => Promise<void>,
): Promise<number> {
  const logger = new Logger('Shutdown');
  const started = Date.now();
  app.get(Lifecycle).startDrain();
  const jobs = app.get(JobQueue).drain();
  const drained = (async () => {
    await sleep(opts.readinessDelayMs);
    await jobs;
    await app.close();
    await after();
  })();
  const deadline = sleep(opts.timeoutMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]).catch(
    (err: unknown) => {
      logger.error({ err }, 'Drain failed');
      return 'failed' as const;
    },
  );
  if (outcome === 'drained') {
    logger.log(`Drained in ${Date.now() - started} ms`);
    return 0;
  }
  logger.error(
    `Drain ${outcome === 'timeout' ? `did not finish in ${opts.timeoutMs} ms` : 'failed'}: exiting`,
  );
  return 1;
}

import { Injectable } from '@nestjs/common';
import { JobQueue } from '../queue/job-queue.service';

export const DISPATCH_QUEUE = 'connect-event.dispatch';
export const DELIVER_QUEUE = 'connect-event.deliver';

export interface DispatchJob {
  eventId: string;
}

/** `round` guards against two retry chains after a redelivery; `step` is the attempt's index in its round. */
export interface DeliverJob {
  deliveryId: string;
  /** The delivery's tenant (its shard on Citus); jobs queued before it was carried lack it. */
  tenantId?: string;
  round: number;
  step: number;
}

/**
 * Creates the two queues once per process. pg-boss 10 refuses jobs for a queue that does not exist, and `emit`
 * may run (from another module's worker) before this module's bootstrap, so every sender awaits this first.
 */
@Injectable()
export class EventQueues {
  private ready: Promise<void> | null = null;

  constructor(private readonly queue: JobQueue) {}

  ensure(): Promise<void> {
    this.ready ??= (async () => {
      // pg-boss retries cover only unexpected failures (database down); delivery retries follow our own schedule.
      await this.queue.define({
        name: DISPATCH_QUEUE,
        retryLimit: 10,
        retryDelaySeconds: 2,
        retryBackoff: true,
      });
      await this.queue.define({
        name: DELIVER_QUEUE,
        retryLimit: 5,
        retryDelaySeconds: 5,
        retryBackoff: true,
      });
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }
}

import { Injectable } from '@nestjs/common';
import { JobQueue, QueueDefinition } from '../queue/job-queue.service';

/** A committed ConnectEvent, fanned out to the subscriptions it matches: one delivery (and its job) per match. */
export const DISPATCH_QUEUE = 'events.fan-out-to-subscriptions';
/** One attempt to POST a delivery to its subscription's endpoint; retries follow our own schedule. */
export const DELIVER_QUEUE = 'events.deliver-to-endpoint';

// pg-boss retries cover only unexpected failures (database down); delivery retries follow our own schedule.
export const EVENTS_QUEUES = {
  dispatch: {
    name: DISPATCH_QUEUE,
    formerNames: ['connect-event.dispatch'],
    retryLimit: 10,
    retryDelaySeconds: 2,
    retryBackoff: true,
  },
  deliver: {
    name: DELIVER_QUEUE,
    formerNames: ['connect-event.deliver'],
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

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
      await this.queue.define(EVENTS_QUEUES.dispatch);
      await this.queue.define(EVENTS_QUEUES.deliver);
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }
}

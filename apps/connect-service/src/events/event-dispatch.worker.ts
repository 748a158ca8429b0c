import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobBatch, JobQueue, JobQueueDrainingError } from '../queue/job-queue.service';
import { DISPATCH_QUEUE, DispatchJob, EventQueues } from './events.queues';
import { EventDeliveriesRepository } from './event-deliveries.repository';
import { connectEventsEmitted, deliveriesReading } from './events-metrics';

/**
 * Fans committed ConnectEvents out to the subscriptions they match: one delivery row per (event, subscription),
 * each with its delivery job, a batch of events in one statement. The unique pair makes a re-run harmless.
 */
@Injectable()
export class EventDispatchWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private releaseReading?: () => void;

  constructor(
    private readonly deliveries: EventDeliveriesRepository,
    private readonly queue: JobQueue,
    private readonly queues: EventQueues,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queues.ensure();
    this.releaseReading = deliveriesReading.use(() => this.deliveries.pendingReading());
    // Every processed webhook emits an event, so dispatch goes by batch: one statement fans a whole batch out.
    await this.queue.workBatch<DispatchJob>(DISPATCH_QUEUE, { batchSize: 100, concurrency: 1 }, (batch) =>
      this.dispatchBatch(batch),
    );
  }

  onApplicationShutdown(): void {
    this.releaseReading?.();
  }

  /**
   * One statement for the batch, so a failure re-runs it whole, which the unique pair makes harmless. Each
   * delivery job carries the trace context its event's dispatch job carried (the emitter's).
   */
  private async dispatchBatch(batch: JobBatch<DispatchJob>): Promise<void> {
    const failure = await batch
      .step(() =>
        this.fanOut(
          batch.jobs.map((j) => {
            const { eventId, ...carrier } = j.data;
            return { eventId, carrier: JSON.stringify(carrier) };
          }),
        ),
      )
      .then(
        () => null,
        (err: unknown) => err ?? new Error('dispatch failed'),
      );
    if (failure instanceof JobQueueDrainingError) return;
    await Promise.all(
      batch.jobs.map((job) =>
        batch.run(job, async () => {
          if (failure) throw failure;
        }),
      ),
    );
  }

  /** Delivery rows (one per event and matching subscription) and their jobs; answers how many events it found. */
  private async fanOut(events: Array<{ eventId: string; carrier: string }>): Promise<number> {
    await this.queues.ensure();
    const found = await this.deliveries.fanOut(events);
    for (const { type } of found) connectEventsEmitted.inc({ type });
    return found.length;
  }
}

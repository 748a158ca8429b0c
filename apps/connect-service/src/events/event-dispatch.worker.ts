import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobBatch, JobQueue, JobQueueDrainingError } from '../queue/job-queue.service';
import { DELIVER_QUEUE, DISPATCH_QUEUE, DispatchJob, EventQueues } from './event-queues';
import { connectEventsEmitted, deliveriesReading, readPendingDeliveries } from './events-metrics';

/**
 * Fans committed ConnectEvents out to the subscriptions they match: one delivery row per (event, subscription),
 * each with its delivery job, a batch of events in one statement. The unique pair makes a re-run harmless.
 */
@Injectable()
export class EventDispatchWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private releaseReading?: () => void;
  private fanOutStatement?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    private readonly queues: EventQueues,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queues.ensure();
    this.releaseReading = deliveriesReading.use(() =>
      readPendingDeliveries((sql) => this.dataSource.query(sql)),
    );
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
    const found = (await this.dataSource.query(this.fanOutSql(), [
      events.map((e) => e.eventId),
      events.map((e) => e.carrier),
    ])) as Array<{ type: string }>;
    for (const { type } of found) connectEventsEmitted.inc({ type });
    return found.length;
  }

  private fanOutSql(): string {
    this.fanOutStatement ??= `WITH input AS (
        SELECT DISTINCT ON (event_id) event_id, carrier FROM unnest($1::uuid[], $2::jsonb[]) AS i(event_id, carrier)),
      event AS (
        SELECT e.id, e.type, e.tenant_id, input.carrier FROM connect_events e JOIN input ON input.event_id = e.id),
      created AS (
        INSERT INTO event_deliveries (event_id, subscription_id, tenant_id, next_attempt_at)
        SELECT event.id, s.id, event.tenant_id, now() FROM event JOIN event_subscriptions s
            ON s.status = 'active' AND s.deleted_at IS NULL
           AND (s.tenant_id IS NULL OR s.tenant_id = event.tenant_id)
           AND s.event_types && ARRAY[event.type::text, '*']
        ON CONFLICT (event_id, subscription_id, tenant_id) DO NOTHING
        RETURNING id, event_id),
      delivery AS (SELECT created.id, event.carrier FROM created JOIN event ON event.id = created.event_id),
      job AS (${this.queue.insertJobsFromSql(DELIVER_QUEUE, 'delivery', "jsonb_build_object('deliveryId', delivery.id, 'round', 1, 'step', 0) || delivery.carrier")})
      SELECT type FROM event`;
    return this.fanOutStatement;
  }
}

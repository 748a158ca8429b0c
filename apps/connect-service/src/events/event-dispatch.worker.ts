import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobQueue } from '../queue/job-queue.service';
import { DELIVER_QUEUE, DISPATCH_QUEUE, DeliverJob, DispatchJob, EventQueues } from './event-queues';
import { connectEventsEmitted, deliveriesReading, readPendingDeliveries } from './events-metrics';

/**
 * Fans a committed ConnectEvent out to the subscriptions it matches: one delivery row per (event,
 * subscription), each with its delivery job, in one transaction. The unique pair makes a re-run harmless.
 */
@Injectable()
export class EventDispatchWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private releaseReading?: () => void;

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
    // A pg-boss worker fetches once per polling interval, so the batch size bounds the fan-out rate: every processed
    // webhook emits an event, hence large batches (a failed batch re-runs whole, which the unique pair makes harmless).
    await this.queue.work<DispatchJob>(DISPATCH_QUEUE, { batchSize: 50, concurrency: 2 }, async (job) => {
      await this.dispatch(job.data.eventId);
    });
  }

  onApplicationShutdown(): void {
    this.releaseReading?.();
  }

  async dispatch(eventId: string): Promise<number> {
    const type = await this.dataSource.transaction(async (manager) => {
      const events = (await manager.query(`SELECT type, tenant_id FROM connect_events WHERE id = $1`, [
        eventId,
      ])) as {
        type: string;
        tenant_id: string;
      }[];
      if (!events.length) return null;
      const { type, tenant_id } = events[0];
      const created = (await manager.query(
        `INSERT INTO event_deliveries (event_id, subscription_id, tenant_id, next_attempt_at)
         SELECT $1::uuid, s.id, $2::varchar, now() FROM event_subscriptions s
          WHERE s.status = 'active' AND s.deleted_at IS NULL
            AND (s.tenant_id IS NULL OR s.tenant_id = $2::varchar)
            AND s.event_types && ARRAY[$3::text, '*']
         ON CONFLICT (event_id, subscription_id) DO NOTHING
         RETURNING id`,
        [eventId, tenant_id, type],
      )) as { id: string }[];
      for (const d of created) {
        await this.queue.send<DeliverJob>(
          DELIVER_QUEUE,
          { deliveryId: d.id, round: 1, step: 0 },
          { manager },
        );
      }
      return type;
    });
    if (type !== null) connectEventsEmitted.inc({ type });
    return type === null ? 0 : 1;
  }
}

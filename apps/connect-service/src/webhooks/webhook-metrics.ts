import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { metric } from '@app/common';

type BacklogCounter = () => Promise<Array<{ status: string; count: number }>>;

/** The backlog gauge asks the newest live app's database (one per process in production). */
let backlogSource: BacklogCounter | null = null;

/**
 * Webhook metrics on prom-client's default registry (served by GET /metrics). Outcome label values:
 * applied, stale, skipped, no_handler, unmatched, livemode_mismatch, duplicate, failed, dead.
 */
@Injectable()
export class WebhookMetrics implements OnModuleInit, OnModuleDestroy {
  readonly events = metric.counter({
    name: 'stripe_webhook_events_total',
    help: 'Stripe webhook events by type and outcome (intake duplicates and processing outcomes)',
    labelNames: ['type', 'outcome'] as const,
  });

  readonly signatureFailures = metric.counter({
    name: 'stripe_webhook_signature_failures_total',
    help: 'Webhook deliveries refused with CONNECT_004, by reason',
    labelNames: ['reason'] as const,
  });

  readonly lag = metric.histogram({
    name: 'stripe_webhook_processing_lag_seconds',
    help: 'Time from an event entering the inbox to its first successful processing',
    labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
  });

  readonly backlog = metric.gauge({
    name: 'stripe_webhook_inbox_backlog',
    help: 'Inbox events waiting to be processed (received) or retried (failed)',
    labelNames: ['status'] as const,
    async collect() {
      if (!backlogSource) return;
      try {
        const rows = await backlogSource();
        this.reset();
        this.set({ status: 'received' }, 0);
        this.set({ status: 'failed' }, 0);
        for (const r of rows) this.set({ status: r.status }, r.count);
      } catch {
        // Database down: keep the last value; /metrics must still answer.
      }
    },
  });

  private readonly counter: BacklogCounter;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.counter = async () => {
      const rows: Array<{ status: string; count: string }> = await dataSource.query(
        `SELECT status, count(*)::text AS count FROM stripe_webhook_events WHERE status IN ('received', 'failed') GROUP BY status`,
      );
      return rows.map((r) => ({ status: r.status, count: Number(r.count) }));
    };
  }

  onModuleInit(): void {
    backlogSource = this.counter;
  }

  onModuleDestroy(): void {
    if (backlogSource === this.counter) backlogSource = null;
  }
}

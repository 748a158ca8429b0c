import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { metric } from '@app/common';
import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';
import { WebhookInboxRepository } from './webhook-inbox.repository';

interface InboxReading {
  /** Rows per status, for the statuses that need an operator's eye (never the unbounded processed/ignored). */
  counts: Array<{ status: string; count: number }>;
  /** Age of the oldest event still waiting (received or failed), 0 when none waits. */
  oldestWaitingSeconds: number;
}

/** The statuses counted at scrape time: each is a small set, read through the (status, received_at) index. */
const WATCHED_STATUSES = ['received', 'failed', 'dead', 'unmatched'] as const;

const inboxReading = new ScrapeReading<InboxReading>('webhook_inbox');

/**
 * Webhook metrics on prom-client's default registry (served by GET /metrics). Outcome label values:
 * applied, stale, skipped, no_handler, unmatched, livemode_mismatch, platform_ignored, duplicate, failed, dead.
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

  readonly backlog = scrapeGauge({
    name: 'stripe_webhook_inbox_backlog',
    help: 'Inbox events waiting to be processed (received) or retried (failed)',
    labelNames: ['status'] as const,
    reading: inboxReading,
    values: (r) =>
      (['received', 'failed'] as const).map((status) => ({
        labels: { status },
        value: r.counts.find((c) => c.status === status)?.count ?? 0,
      })),
  });

  readonly inbox = scrapeGauge({
    name: 'stripe_webhook_inbox_events',
    help: `Inbox events by status, for the statuses an operator watches (${WATCHED_STATUSES.join(', ')}); dead = every retry failed`,
    labelNames: ['status'] as const,
    reading: inboxReading,
    values: (r) =>
      WATCHED_STATUSES.map((status) => ({
        labels: { status },
        value: r.counts.find((c) => c.status === status)?.count ?? 0,
      })),
  });

  readonly oldestWaiting = scrapeGauge({
    name: 'stripe_webhook_inbox_oldest_waiting_seconds',
    help: 'Age of the oldest inbox event still waiting to be processed or retried (0 when none waits)',
    reading: inboxReading,
    values: (r) => [{ value: r.oldestWaitingSeconds }],
  });

  private release: (() => void) | null = null;

  constructor(private readonly rows: WebhookInboxRepository) {}

  onModuleInit(): void {
    this.release = inboxReading.use(async () => {
      // One grouped COUNT over the watched statuses (index on status, received_at), min() for the waiting age.
      const rows = await this.rows.countByStatus(WATCHED_STATUSES);
      const waiting = rows.filter((r) => r.status === 'received' || r.status === 'failed');
      return {
        counts: rows.map((r) => ({ status: r.status, count: Number(r.count) })),
        oldestWaitingSeconds: Math.max(0, ...waiting.map((r) => Number(r.oldest ?? 0))),
      };
    });
  }

  onModuleDestroy(): void {
    this.release?.();
  }
}

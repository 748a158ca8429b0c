import { metric } from '@app/common';
import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';

export type DeliveryOutcome = 'success' | 'http_error' | 'timeout' | 'network_error';

export const connectEventsEmitted = metric.counter({
  name: 'connect_events_emitted_total',
  help: 'ConnectEvents committed and fanned out to subscriptions, by type',
  labelNames: ['type'],
});

export const connectEventDeliveryAttempts = metric.counter({
  name: 'connect_event_delivery_attempts_total',
  help: 'Outbound ConnectEvent delivery attempts, by outcome',
  labelNames: ['outcome'],
});

export interface DeliveriesReading {
  /** Pending deliveries awaiting their first attempt, and those waiting for a retry. */
  firstAttempt: number;
  retrying: number;
  /** Age of the oldest pending delivery, 0 when none is pending. */
  oldestSeconds: number;
}

/** Pending deliveries, read from PostgreSQL at scrape time (the durable truth, whichever replica is asked). */
export const deliveriesReading = new ScrapeReading<DeliveriesReading>('event_deliveries');

scrapeGauge({
  name: 'connect_event_outbox_backlog',
  help: 'Outbound ConnectEvent deliveries still pending (awaiting their first attempt or a retry)',
  reading: deliveriesReading,
  values: (r) => [{ value: r.firstAttempt + r.retrying }],
});

scrapeGauge({
  name: 'connect_event_deliveries_pending',
  help: 'Outbound ConnectEvent deliveries still pending, by stage (first_attempt, retrying)',
  labelNames: ['stage'] as const,
  reading: deliveriesReading,
  values: (r) => [
    { labels: { stage: 'first_attempt' }, value: r.firstAttempt },
    { labels: { stage: 'retrying' }, value: r.retrying },
  ],
});

scrapeGauge({
  name: 'connect_event_delivery_oldest_pending_seconds',
  help: 'Age of the oldest pending outbound delivery (0 when none is pending)',
  reading: deliveriesReading,
  values: (r) => [{ value: r.oldestSeconds }],
});

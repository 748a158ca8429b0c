import { metric } from '@app/common';

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

let backlogSource: (() => Promise<number>) | null = null;

/** The outbox backlog is read from PostgreSQL at scrape time (the durable truth, whichever replica is asked). */
export function setOutboxBacklogSource(source: (() => Promise<number>) | null): void {
  backlogSource = source;
}

metric.gauge({
  name: 'connect_event_outbox_backlog',
  help: 'Outbound ConnectEvent deliveries still pending (awaiting their first attempt or a retry)',
  async collect() {
    if (!backlogSource) return;
    try {
      this.set(await backlogSource());
    } catch {
      // A scrape during a database outage must not fail the whole /metrics answer.
    }
  },
});

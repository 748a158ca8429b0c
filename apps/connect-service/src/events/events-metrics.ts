import { Counter, Gauge, register } from 'prom-client';

export type DeliveryOutcome = 'success' | 'http_error' | 'timeout' | 'network_error';

/**
 * Metrics live on prom-client's default registry (exposed at /metrics). Several apps can boot in one process
 * (the e2e suites), so each metric is created once and reused.
 */
function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  return (
    (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames })
  );
}

export const connectEventsEmitted = counter(
  'connect_events_emitted_total',
  'ConnectEvents committed and fanned out to subscriptions, by type',
  ['type'],
);

export const connectEventDeliveryAttempts = counter(
  'connect_event_delivery_attempts_total',
  'Outbound ConnectEvent delivery attempts, by outcome',
  ['outcome'],
);

let backlogSource: (() => Promise<number>) | null = null;

/** The outbox backlog is read from PostgreSQL at scrape time (the durable truth, whichever replica is asked). */
export function setOutboxBacklogSource(source: (() => Promise<number>) | null): void {
  backlogSource = source;
}

if (!register.getSingleMetric('connect_event_outbox_backlog')) {
  new Gauge({
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
}

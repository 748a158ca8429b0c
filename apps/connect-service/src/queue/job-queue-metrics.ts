import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';

export interface QueueCount {
  queue: string;
  state: string;
  count: number;
}

/** Jobs waiting to run (created, or failed and waiting for a retry), per pg-boss queue, read at scrape time. */
export const jobQueueReading = new ScrapeReading<QueueCount[]>('job_queue');

scrapeGauge({
  name: 'connect_job_queue_pending',
  help:
    'pg-boss jobs waiting to run, by queue and state (created, retry); events.fan-out-to-subscriptions is the ' +
    'outbox (ConnectEvents committed, not fanned out yet), a *.dead queue holds dead letters',
  labelNames: ['queue', 'state'] as const,
  reading: jobQueueReading,
  values: (rows) => rows.map((r) => ({ labels: { queue: r.queue, state: r.state }, value: r.count })),
});

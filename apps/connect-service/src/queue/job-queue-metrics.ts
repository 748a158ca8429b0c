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
    'pg-boss jobs waiting to run, by queue and state (created, retry); connect-event.dispatch is the ' +
    'outbox (ConnectEvents committed, not fanned out yet), a *.dead queue holds dead letters',
  labelNames: ['queue', 'state'] as const,
  reading: jobQueueReading,
  values: (rows) => rows.map((r) => ({ labels: { queue: r.queue, state: r.state }, value: r.count })),
});

/**
 * One grouped COUNT over pg-boss's job table, within its partial index of waiting jobs (state < 'active'); every
 * defined queue answers, 0 included, so a rule on a queue that drains still has a series.
 */
export function waitingJobsSql(schema: string): string {
  return `SELECT q.name AS queue, s.state, count(j.id)::int AS count
            FROM ${schema}.queue q CROSS JOIN (VALUES ('created'), ('retry')) AS s(state)
            LEFT JOIN ${schema}.job j ON j.name = q.name AND j.state < 'active' AND j.state::text = s.state
           GROUP BY q.name, s.state`;
}

/*
 * Recomputes the analytics rollups from the payment routes, after a bug or a restore:
 * `npm run analytics:rebuild -- --since 2026-11-01T00:00:00Z`. Every bucket from that UTC day on is recounted;
 * route writes wait while it runs. Safe to re-run.
 */
import { parseArgs } from 'node:util';
import { runCli } from '../../cli/run-cli';
import { AnalyticsService } from '../analytics.service';

runCli(
  'Analytics rebuild',
  () => {
    const { values } = parseArgs({ options: { since: { type: 'string' } }, allowPositionals: false });
    if (!values.since) throw new Error('Usage: analytics:rebuild --since <ISO date>');
    const since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw new Error('--since must be an ISO-8601 date');
    return { since };
  },
  async (app, { since }) => {
    const result = await app.get(AnalyticsService).rebuild(since);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  },
);

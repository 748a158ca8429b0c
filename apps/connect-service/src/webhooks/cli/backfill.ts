/*
 * Backfill after an outage, from a shell: `npm run webhooks:backfill -- --since 2026-11-25T00:00:00Z [--until <ISO>]`.
 * Boots the service's modules without HTTP and without workers (the running replicas process what it enqueues),
 * then feeds Stripe's Events API through the same inbox path as POST /connect/webhooks/backfill.
 */
import { parseArgs } from 'node:util';
import { runCli } from '../../cli/run-cli';
import { WebhookBackfillService } from '../webhook-backfill.service';

runCli(
  'Backfill',
  () => {
    const { values } = parseArgs({
      options: { since: { type: 'string' }, until: { type: 'string' } },
      allowPositionals: false,
    });
    if (!values.since)
      throw new Error(
        'Usage: webhooks:backfill --since <ISO date, at most 30 days ago> [--until <ISO date>]',
      );
    const since = new Date(values.since);
    const until = values.until ? new Date(values.until) : undefined;
    if (Number.isNaN(since.getTime()) || (until && Number.isNaN(until.getTime()))) {
      throw new Error('--since and --until must be ISO-8601 dates');
    }
    return { since, until };
  },
  async (app, { since, until }) => {
    const counts = await app.get(WebhookBackfillService).backfill(since, until);
    process.stdout.write(`${JSON.stringify(counts, null, 2)}\n`);
  },
);

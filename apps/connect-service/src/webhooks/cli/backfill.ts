/*
 * Backfill after an outage, from a shell: `npm run webhooks:backfill -- --since 2026-11-25T00:00:00Z [--until <ISO>]`.
 * Boots the service's modules without HTTP and without workers (the running replicas process what it enqueues),
 * then feeds Stripe's Events API through the same inbox path as POST /connect/webhooks/backfill.
 */
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { validateEnvironment } from '@app/config';
import { stopEmbeddedPostgres } from '@app/database';
import { AppModule } from '../../app.module';
import { WebhookBackfillService } from '../webhook-backfill.service';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { since: { type: 'string' }, until: { type: 'string' } },
    allowPositionals: false,
  });
  if (!values.since)
    throw new Error('Usage: webhooks:backfill --since <ISO date, at most 30 days ago> [--until <ISO date>]');
  const since = new Date(values.since);
  const until = values.until ? new Date(values.until) : undefined;
  if (Number.isNaN(since.getTime()) || (until && Number.isNaN(until.getTime()))) {
    throw new Error('--since and --until must be ISO-8601 dates');
  }
  process.env.WORKERS_ENABLED ??= 'false';
  validateEnvironment(process.env);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn', 'log'] });
  try {
    const counts = await app.get(WebhookBackfillService).backfill(since, until);
    process.stdout.write(`${JSON.stringify(counts, null, 2)}\n`);
  } finally {
    await app.close();
  }
}

main()
  .then(() => stopEmbeddedPostgres())
  .catch(async (err: unknown) => {
    const details = (err as { details?: unknown }).details;
    process.stderr.write(
      `Backfill failed: ${err instanceof Error ? err.message : String(err)}${details ? ` ${JSON.stringify(details)}` : ''}\n`,
    );
    await stopEmbeddedPostgres().catch(() => undefined);
    process.exit(1);
  });

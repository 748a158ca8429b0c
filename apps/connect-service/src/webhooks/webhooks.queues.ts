import type { QueueDefinition } from '../queue/job-queue.service';

/** One stored Stripe event (an inbox row), applied by its handlers: the intake's job, sent with the row. */
export const WEBHOOK_PROCESS_QUEUE = 'webhooks.process-stripe-event';

export const WEBHOOKS_QUEUES = {
  // Backoff from 2 s doubling over 8 retries spans ~8 minutes; after that the dead letter marks the row.
  process: {
    name: WEBHOOK_PROCESS_QUEUE,
    formerNames: ['stripe-webhook.process'],
    retryLimit: 8,
    retryDelaySeconds: 2,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

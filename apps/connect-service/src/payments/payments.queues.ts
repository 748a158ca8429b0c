import type { QueueDefinition } from '../queue/job-queue.service';

/** A payment or refund whose outcome at Stripe is unknown (a timeout, a 5xx): settled from Stripe by its key. */
export const RESOLVE_OUTCOME_QUEUE = 'payments.resolve-outcome';
/** A split payment's transfers to its recipients, or their reversals after a refund. */
export const SPLIT_TRANSFERS_QUEUE = 'payments.split-transfers';

export const PAYMENTS_QUEUES = {
  // Unknown outcomes are retried with backoff for about an hour before they dead-letter for an operator.
  resolveOutcome: {
    name: RESOLVE_OUTCOME_QUEUE,
    formerNames: ['payments.reconcile'],
    retryLimit: 10,
    retryDelaySeconds: 5,
    retryBackoff: true,
  },
  splitTransfers: {
    name: SPLIT_TRANSFERS_QUEUE,
    formerNames: ['payments.split'],
    retryLimit: 10,
    retryDelaySeconds: 5,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

import type { QueueDefinition } from '../queue/job-queue.service';

/** Every minute: folds the trigger-fed deltas into the analytics rollups (one run per tick across replicas). */
export const ANALYTICS_FOLD_QUEUE = 'analytics.fold-rollups';

export const ANALYTICS_QUEUES = {
  fold: {
    name: ANALYTICS_FOLD_QUEUE,
    formerNames: ['analytics.fold'],
    retryLimit: 2,
    retryDelaySeconds: 10,
    retryBackoff: false,
    expireInSeconds: 600,
  },
} satisfies Record<string, QueueDefinition>;

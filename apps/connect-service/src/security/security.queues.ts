import type { QueueDefinition } from '../queue/job-queue.service';

/** The daily retention purge (RETENTION_CRON): old webhook payloads, delivery attempt bodies and audit rows. */
export const RETENTION_QUEUE = 'security.purge-expired-data';

export const SECURITY_QUEUES = {
  retention: {
    name: RETENTION_QUEUE,
    formerNames: ['security.retention'],
    retryLimit: 3,
    retryDelaySeconds: 300,
    retryBackoff: true,
    expireInSeconds: 3600,
  },
} satisfies Record<string, QueueDefinition>;

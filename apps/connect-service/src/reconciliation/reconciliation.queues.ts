import type { QueueDefinition } from '../queue/job-queue.service';

/** One job per tenant and run: reconciles the tenant's share of the run, page by page. */
export const RECONCILIATION_TENANT_QUEUE = 'reconciliation.reconcile-tenant';
/** The cron's job: starts the scheduled run over every tenant. */
export const RECONCILIATION_SCHEDULE_QUEUE = 'reconciliation.start-scheduled-run';

/** Retries after the first attempt; each resumes from the job's stored cursor. */
export const TENANT_JOB_RETRY_LIMIT = 5;

export const RECONCILIATION_QUEUES = {
  tenant: {
    name: RECONCILIATION_TENANT_QUEUE,
    formerNames: ['reconciliation.tenant'],
    retryLimit: TENANT_JOB_RETRY_LIMIT,
    retryDelaySeconds: 2,
    retryBackoff: true,
    expireInSeconds: 1800,
  },
  schedule: {
    name: RECONCILIATION_SCHEDULE_QUEUE,
    formerNames: ['reconciliation.schedule'],
    retryLimit: 3,
    retryDelaySeconds: 60,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

export interface TenantJobData {
  jobId: string;
}

/** The pg-boss queues of reconciliation: one job per tenant and run, and the cron that starts scheduled runs. */
export const RECONCILIATION_TENANT_QUEUE = 'reconciliation.tenant';
export const RECONCILIATION_SCHEDULE_QUEUE = 'reconciliation.schedule';

export interface TenantJobData {
  jobId: string;
}

import type { QueueDefinition } from '../queue/job-queue.service';

/** Requirement deadline reminders: one tenant's at its offsets, and (without a tenant) the once-a-minute sweep. */
export const REQUIREMENTS_REMINDER_QUEUE = 'accounts.remind-requirements-due';

export interface ReminderJob {
  /** One tenant's reminders; without it, every account with a deadline within the largest offset (the sweep). */
  tenantId?: string;
}

export const ACCOUNTS_QUEUES = {
  requirementsReminder: {
    name: REQUIREMENTS_REMINDER_QUEUE,
    formerNames: ['accounts.requirements-reminder'],
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

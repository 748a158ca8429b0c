import type { QueueDefinition } from '../queue/job-queue.service';

/** One step of recovering a platform-liable dispute loss from the connected account (a reversal, or its return). */
export const DISPUTE_RECOVERY_QUEUE = 'disputes.recover-platform-loss';
/** The cron's sweep: connect.dispute.evidence_due for open disputes nearing their evidence deadline. */
export const DISPUTE_REMINDER_QUEUE = 'disputes.remind-evidence-due';

export interface DisputeRecoveryJob {
  tenantId: string;
  disputeId: string;
  step: 'reverse' | 'return';
}

export const DISPUTES_QUEUES = {
  // Only Stripe being unreachable is retried (a refusal is recorded on the dispute, never retried).
  recovery: {
    name: DISPUTE_RECOVERY_QUEUE,
    formerNames: ['disputes.recovery'],
    retryLimit: 8,
    retryDelaySeconds: 5,
    retryBackoff: true,
  },
  reminders: {
    name: DISPUTE_REMINDER_QUEUE,
    formerNames: ['disputes.evidence-reminders'],
    retryLimit: 3,
    retryDelaySeconds: 60,
    retryBackoff: true,
  },
} satisfies Record<string, QueueDefinition>;

import { ReconciliationJobEntity, ReconciliationRunEntity } from '@app/database';
import type { StripePayout } from '@app/stripe-gateway';
import type { Comparison, JobOwner } from './drift/drift.types';

/** The lists a tenant's job walks, in order; refunds come before charges so refunded totals know every refund. */
export const PHASES = [
  'pi:account',
  'pi:platform',
  're:account',
  're:platform',
  'ch:account',
  'ch:platform',
  'fee:platform',
  'tr:platform',
  'sub:account',
  'in:account',
  'po:account',
  'po:state',
  'local',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

export function nextPhase(phase: Phase): Phase {
  return PHASES[Math.min(PHASES.indexOf(phase) + 1, PHASES.length - 1)];
}

export interface StepResult extends Comparison {
  /** Where the job goes next: the same phase with a new cursor, or the next phase from its start. */
  phase: Phase;
  cursor: string | null;
  subCursor: string | null;
}

/** What one job execution knows: its row, its run, and the Stripe calls it made. */
export interface JobContext {
  job: ReconciliationJobEntity;
  run: ReconciliationRunEntity;
  calls: number;
  /** Payouts page of this execution (not stored: a resumed job lists it again from its cursor). */
  payouts?: { after: string | null; list: StripePayout[]; hasMore: boolean };
}

export const ownerOf = (ctx: JobContext): JobOwner => ({
  tenantId: ctx.job.tenant_id,
  stripeAccountId: ctx.job.stripe_account_id,
  jobId: ctx.job.id,
});

/** A step that ends its phase (`next`) or stays in it at `cursor`. */
export function stepTo(
  out: Comparison,
  phase: Phase,
  next: Phase,
  page: { has_more: boolean; data: { id: string }[] },
): StepResult {
  const last = page.data[page.data.length - 1];
  if (page.has_more && last) return { ...out, phase, cursor: last.id, subCursor: null };
  return { ...out, phase: next, cursor: null, subCursor: null };
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export enum ReconciliationRunStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

export enum DriftCategory {
  MissingLocal = 'missing_local',
  MissingStripe = 'missing_stripe',
  AmountMismatch = 'amount_mismatch',
  CurrencyMismatch = 'currency_mismatch',
  StatusMismatch = 'status_mismatch',
  FeeMismatch = 'fee_mismatch',
  RefundMismatch = 'refund_mismatch',
  TransferMismatch = 'transfer_mismatch',
  Duplicate = 'duplicate',
  PayoutUnlinked = 'payout_unlinked',
  /** A payout Stripe has that we hold no row for. */
  PayoutMissing = 'payout_missing',
  /** Our payout row behind Stripe's status or reconciliation status. */
  PayoutStatus = 'payout_status',
  /** Our payout's amount or currency differs from Stripe's. */
  PayoutAmount = 'payout_amount',
  /** A reconciled payout whose balance transactions do not add up to it. */
  PayoutSum = 'payout_sum',
}

export enum DriftItemStatus {
  /** Inside the grace window: webhooks may simply not have arrived; the next run checks again. */
  Expected = 'expected',
  Mismatched = 'mismatched',
  Healed = 'healed',
  Resolved = 'resolved',
}

/** One reconciliation run over a window, for one tenant or all of them. */
@Entity({ name: 'reconciliation_runs' })
@Index('ix_reconciliation_runs_created', ['created_at', 'id'])
export class ReconciliationRunEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Null: every connected tenant. */
  @Column({ name: 'tenant_id', type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({
    type: 'enum',
    enum: ReconciliationRunStatus,
    enumName: 'reconciliation_run_status',
    default: ReconciliationRunStatus.Queued,
  })
  status!: ReconciliationRunStatus;

  @Column({ name: 'window_from', type: 'timestamptz' })
  window_from!: Date;

  @Column({ name: 'window_to', type: 'timestamptz' })
  window_to!: Date;

  @Column({ name: 'dry_run', type: 'boolean', default: false })
  dry_run!: boolean;

  @Column({ name: 'grace_seconds', type: 'integer' })
  grace_seconds!: number;

  /** `manual` (the API) or `scheduled` (the cron). */
  @Column({ type: 'varchar', length: 16 })
  trigger!: string;

  @Column({ name: 'requested_by', type: 'varchar', length: 255, nullable: true })
  requested_by!: string | null;

  /** Items this run saw, by category (set when the run finishes). */
  @Column({ type: 'jsonb', default: {} })
  totals!: Record<string, number>;

  @Column({ type: 'integer', default: 0 })
  healed!: number;

  /** Items no earlier run had reported. */
  @Column({ name: 'new_items', type: 'integer', default: 0 })
  new_items!: number;

  @Column({ name: 'stripe_calls', type: 'integer', default: 0 })
  stripe_calls!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  started_at!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finished_at!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

/** A run's share for one tenant: a pg-boss job any replica may take, with its stored Stripe list position. */
@Entity({ name: 'reconciliation_jobs' })
@Index('uq_reconciliation_jobs_run_tenant', ['run_id', 'tenant_id'], { unique: true })
export class ReconciliationJobEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  run_id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @Column({
    type: 'enum',
    enum: ReconciliationRunStatus,
    enumName: 'reconciliation_run_status',
    default: ReconciliationRunStatus.Queued,
  })
  status!: ReconciliationRunStatus;

  /** The list being walked (e.g. `pi:account`), then `local`, then `done`. */
  @Column({ type: 'varchar', length: 32, default: 'pi:account' })
  phase!: string;

  /** Stripe's `starting_after` for the phase's next page (or the last route id in the `local` phase). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  cursor!: string | null;

  /** Payouts: the balance-transaction cursor inside the payout after `cursor`. */
  @Column({ name: 'sub_cursor', type: 'varchar', length: 255, nullable: true })
  sub_cursor!: string | null;

  @Column({ type: 'integer', default: 0 })
  pages!: number;

  @Column({ name: 'stripe_calls', type: 'integer', default: 0 })
  stripe_calls!: number;

  @Column({ type: 'integer', default: 0 })
  healed!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  started_at!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finished_at!: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

/**
 * A Stripe object a job linked to one of our routes (or, kind `unrecorded_refund`, a refund we hold no route for):
 * what lets the `local` phase find routes Stripe never showed, and payouts link their balance transactions.
 */
@Entity({ name: 'reconciliation_matches' })
@Index('ix_reconciliation_matches_route', ['job_id', 'payment_route_id'])
export class ReconciliationMatchEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid' })
  job_id!: string;

  @PrimaryColumn({ name: 'stripe_object_id', type: 'varchar', length: 255 })
  stripe_object_id!: string;

  @Column({ name: 'payment_route_id', type: 'uuid', nullable: true })
  payment_route_id!: string | null;

  @Column({ type: 'varchar', length: 24, default: 'linked' })
  kind!: string;

  @Column({ type: 'integer', nullable: true })
  amount!: number | null;
}

/**
 * A platform-side Stripe list page, kept for the run's other tenant jobs: platform lists hold every tenant's objects,
 * so one fetch serves them all. Deleted when the run ends.
 */
@Entity({ name: 'reconciliation_pages' })
export class ReconciliationPageEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  run_id!: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  phase!: string;

  /** The page's `starting_after` ('' for the first page). */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  cursor!: string;

  /** Stripe's list object as answered; null while the job that claimed the page fetches it. */
  @Column({ type: 'jsonb', nullable: true })
  data!: Record<string, unknown> | null;
}

/** One difference between our records and Stripe's, with both sides' values. */
@Entity({ name: 'reconciliation_items' })
@Index('uq_reconciliation_items_identity', ['scope', 'tenant_id', 'identity'], { unique: true })
@Index('ix_reconciliation_items_last_run', ['last_run_id', 'category', 'status'])
@Index('ix_reconciliation_items_run', ['run_id'])
@Index('ix_reconciliation_items_open', ['status', 'category'])
export class ReconciliationItemEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The run that first reported it. */
  @Column({ name: 'run_id', type: 'uuid' })
  run_id!: string;

  /** The latest run that saw it. */
  @Column({ name: 'last_run_id', type: 'uuid' })
  last_run_id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  /** `live` for real runs; a dry run's own id, so its findings never merge with the live ones. */
  @Column({ type: 'varchar', length: 64 })
  scope!: string;

  /** category|route|object: the unique identity that makes a repeated run find the same item, not a new one. */
  @Column({ type: 'varchar', length: 600 })
  identity!: string;

  @Column({ type: 'enum', enum: DriftCategory, enumName: 'reconciliation_drift_category' })
  category!: DriftCategory;

  @Column({ type: 'enum', enum: DriftItemStatus, enumName: 'reconciliation_item_status' })
  status!: DriftItemStatus;

  @Column({ name: 'payment_route_id', type: 'uuid', nullable: true })
  payment_route_id!: string | null;

  @Column({ name: 'stripe_object_id', type: 'varchar', length: 255, nullable: true })
  stripe_object_id!: string | null;

  @Column({ type: 'jsonb', default: {} })
  local!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  stripe!: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  /** When the compared object came to be (Stripe's `created` or the route's): what the window covers. */
  @Column({ name: 'object_created_at', type: 'timestamptz' })
  object_created_at!: Date;

  @Column({ name: 'resolved_by', type: 'varchar', length: 255, nullable: true })
  resolved_by!: string | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolved_at!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

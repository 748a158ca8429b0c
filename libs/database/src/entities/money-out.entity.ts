import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { PaymentRouteEntity } from './payment-route.entity';

/** bigint minor units come back from pg as strings: numbers here (amounts stay far below 2^53). */
const minorUnits = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/** A payout of a tenant's connected account, as Stripe's `payout.*` events and backfill describe it. */
@Entity({ name: 'payouts' })
@Index('uq_payouts_stripe_payout', ['tenant_id', 'stripe_payout_id'], { unique: true })
@Index('ix_payouts_tenant_created', ['tenant_id', 'created_at', 'id'])
export class PayoutEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128, primaryKeyConstraintName: 'pk_payouts' })
  tenant_id!: string;

  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_payouts' })
  id!: string;

  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @Column({ name: 'stripe_payout_id', type: 'varchar', length: 255 })
  stripe_payout_id!: string;

  @Column({ type: 'bigint', transformer: minorUnits })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  /** Stripe's status: pending, in_transit, paid, failed, canceled. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  /** standard or instant. */
  @Column({ type: 'varchar', length: 16 })
  method!: string;

  @Column({ type: 'boolean' })
  automatic!: boolean;

  @Column({ name: 'arrival_date', type: 'timestamptz', nullable: true })
  arrival_date!: Date | null;

  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failure_code!: string | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failure_message!: string | null;

  /** not_applicable, in_progress, completed (https://docs.stripe.com/payouts/reconciliation). */
  @Column({ name: 'reconciliation_status', type: 'varchar', length: 16 })
  reconciliation_status!: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description!: string | null;

  @Column({ name: 'last_event_created', type: 'bigint', nullable: true, transformer: minorUnits })
  last_event_created!: number | null;

  @Column({ name: 'last_event_id', type: 'varchar', length: 255, nullable: true })
  last_event_id!: string | null;

  /** Stripe's `created`. */
  @Column({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

/** One movement of a dispute's recovery from (or back to) the tenant. */
export interface DisputeRecoveryMovement {
  step: 'reverse' | 'return';
  amount: number;
  stripe_id: string;
  at: string;
}

/** How a platform-liable dispute's loss is recovered from the tenant. */
export interface DisputeRecovery {
  /** none: nothing to do; pending: a step is queued; reversed / returned: done; failed: Stripe refused. */
  status: 'not_applicable' | 'none' | 'pending' | 'reversed' | 'returned' | 'failed';
  mode: 'none' | 'reverse_transfer';
  transfer_id: string | null;
  reversed_amount: number;
  returned_amount: number;
  failure_code: string | null;
  failure_reason: string | null;
  movements: DisputeRecoveryMovement[];
}

/** A dispute (or inquiry) of a tenant's payment, from `charge.dispute.*` events. */
@Entity({ name: 'disputes' })
@Index('uq_disputes_stripe_dispute', ['tenant_id', 'stripe_dispute_id'], { unique: true })
@Index('ix_disputes_tenant_created', ['tenant_id', 'created_at', 'id'])
@Index('ix_disputes_tenant_due', ['tenant_id', 'evidence_due_by'])
export class DisputeEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128, primaryKeyConstraintName: 'pk_disputes' })
  tenant_id!: string;

  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_disputes' })
  id!: string;

  @Column({ name: 'stripe_dispute_id', type: 'varchar', length: 255 })
  stripe_dispute_id!: string;

  /** The account the dispute lives on: the platform's for destination charges, the tenant's for direct ones. */
  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255, nullable: true })
  stripe_account_id!: string | null;

  @Column({ name: 'charge_id', type: 'varchar', length: 255, nullable: true })
  charge_id!: string | null;

  /** Our PaymentRoute, when the disputed charge is one of ours. */
  @Column({ name: 'payment_id', type: 'uuid', nullable: true })
  payment_id!: string | null;

  /** The tenant in the key, so the link holds on one shard (disputes and routes are co-located by tenant). */
  @ManyToOne(() => PaymentRouteEntity, { onDelete: 'NO ACTION', onUpdate: 'NO ACTION' })
  @JoinColumn([
    { name: 'tenant_id', referencedColumnName: 'tenant_id' },
    { name: 'payment_id', referencedColumnName: 'id' },
  ])
  payment?: PaymentRouteEntity;

  @Column({ type: 'bigint', transformer: minorUnits })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  @Column({ type: 'varchar', length: 64 })
  reason!: string;

  /** Stripe's status, kept exactly. */
  @Column({ type: 'varchar', length: 32 })
  status!: string;

  @Column({ name: 'evidence_due_by', type: 'timestamptz', nullable: true })
  evidence_due_by!: Date | null;

  @Column({ name: 'is_charge_refundable', type: 'boolean', default: false })
  is_charge_refundable!: boolean;

  @Column({ name: 'evidence_submitted', type: 'boolean', default: false })
  evidence_submitted!: boolean;

  /** platform (destination charges, on_behalf_of) or tenant (direct charges). */
  @Column({ type: 'varchar', length: 16 })
  liable!: string;

  /** What the liable balance lost (amount + fee) and got back, from funds_withdrawn / funds_reinstated. */
  @Column({ name: 'funds_withdrawn', type: 'bigint', default: 0, transformer: minorUnits })
  funds_withdrawn!: number;

  @Column({ name: 'funds_reinstated', type: 'bigint', default: 0, transformer: minorUnits })
  funds_reinstated!: number;

  @Column({ name: 'dispute_fee', type: 'bigint', default: 0, transformer: minorUnits })
  dispute_fee!: number;

  @Column({ type: 'jsonb' })
  recovery!: DisputeRecovery;

  /** The evidence_due reminder offsets (hours before the deadline) already sent: each goes out once. */
  @Column({ name: 'reminders_sent', type: 'jsonb', default: [] })
  reminders_sent!: number[];

  @Column({ name: 'last_event_created', type: 'bigint', nullable: true, transformer: minorUnits })
  last_event_created!: number | null;

  @Column({ name: 'last_event_id', type: 'varchar', length: 255, nullable: true })
  last_event_id!: string | null;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closed_at!: Date | null;

  /** Stripe's `created`. */
  @Column({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

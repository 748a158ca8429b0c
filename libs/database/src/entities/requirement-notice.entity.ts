import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One requirement notice sent to the platform (`connect.account.requirements_reminder` at an offset before a
 * deadline). The primary key is the claim: a notice inserted once is never sent again, whichever replica runs the job.
 */
@Entity({ name: 'requirement_notices' })
export class RequirementNoticeEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @PrimaryColumn({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  /** Stripe's requirement name (v2 `description`, v1 array entry). */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  field!: string;

  @PrimaryColumn({ type: 'timestamptz' })
  deadline!: Date;

  /** The configured offset as written (`7d`, `2h`, `30s`). */
  @PrimaryColumn({ type: 'varchar', length: 16 })
  offset!: string;

  @Column({ name: 'connect_event_id', type: 'uuid', nullable: true })
  connect_event_id!: string | null;

  @CreateDateColumn({ name: 'sent_at', type: 'timestamptz' })
  sent_at!: Date;
}

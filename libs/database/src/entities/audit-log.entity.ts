import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The append-only audit log: one row per security-relevant action. No code path updates or deletes
 * a row; the migration's trigger refuses UPDATE always and DELETE unless the retention job set
 * `SET LOCAL connect.retention = 'on'` in its transaction.
 */
@Entity({ name: 'audit_log' })
@Index('ix_audit_log_created', ['created_at', 'id'])
@Index('ix_audit_log_tenant_created', ['tenant_id', 'created_at', 'id'])
export class AuditLogEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The JWT `sub`, the API key's public id, or null when the caller is unknown (authentication failures). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  actor!: string | null;

  /** user (JWT), api_key, anonymous, stripe (webhooks), system (jobs). */
  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actor_type!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'target_type', type: 'varchar', length: 64, nullable: true })
  target_type!: string | null;

  @Column({ name: 'target_id', type: 'varchar', length: 255, nullable: true })
  target_id!: string | null;

  /** success | failure */
  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  request_id!: string | null;

  @Column({ type: 'jsonb', default: {} })
  details!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;
}

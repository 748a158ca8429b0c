import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export enum IdempotencyState {
  InProgress = 'in_progress',
  Completed = 'completed',
}

/**
 * Our own `Idempotency-Key`: UNIQUE(scope, key) is the lock, so concurrent duplicates across
 * replicas resolve in PostgreSQL rather than in memory. `scope` is the caller's sub plus the tenant.
 */
@Entity({ name: 'idempotency_records' })
@Index('uq_idempotency_records_scope_key', ['scope', 'key', 'tenant_id'], { unique: true })
export class IdempotencyRecordEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The tenant of the scope: a claim lives on the shard of the route it guards when the database is sharded. */
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 400 })
  scope!: string;

  @Column({ type: 'varchar', length: 255 })
  key!: string;

  /** sha256 of the method, path and canonical JSON body: the same key with another body is refused. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  request_hash!: string;

  @Column({
    type: 'enum',
    enum: IdempotencyState,
    enumName: 'idempotency_state',
    default: IdempotencyState.InProgress,
  })
  state!: IdempotencyState;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  response_status!: number | null;

  /** The first response's body, sealed with SecretBox: it carries the PaymentIntent's client_secret. */
  @Column({ name: 'response_body_enc', type: 'text', nullable: true })
  response_body_enc!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @Index('ix_idempotency_records_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expires_at!: Date;
}

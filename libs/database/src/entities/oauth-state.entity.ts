import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** How an OAuth attempt ended; null while the state is still waiting for its callback. */
export enum OAuthOutcome {
  Connected = 'connected',
  Declined = 'declined',
  Conflict = 'conflict',
  Failed = 'failed',
}

/**
 * One Connect OAuth attempt (state bound to tenant and caller, single use, against CSRF). Only the SHA-256 of
 * the state is stored, so a database reader cannot complete someone else's flow.
 */
@Entity({ name: 'oauth_states' })
@Index('ix_oauth_states_tenant_created', ['tenant_id', 'created_at'])
export class OAuthStateEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** hex SHA-256 of the random state handed to the browser. */
  @Index('uq_oauth_states_state_hash', { unique: true })
  @Column({ name: 'state_hash', type: 'char', length: 64 })
  state_hash!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  /** The `sub` of the caller who started the flow. */
  @Column({ name: 'caller_sub', type: 'varchar', length: 255 })
  caller_sub!: string;

  @Column({ name: 'redirect_uri', type: 'varchar', length: 2048 })
  redirect_uri!: string;

  @Column({ type: 'varchar', length: 16 })
  scope!: string;

  @Index('ix_oauth_states_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expires_at!: Date;

  /** Set by the one statement that consumes the state: a second callback finds it used. */
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  used_at!: Date | null;

  @Column({ type: 'enum', enum: OAuthOutcome, enumName: 'oauth_outcome', nullable: true })
  outcome!: OAuthOutcome | null;

  /** Stripe's error / error_description or our failure reason; never a code or token. */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  error!: string | null;

  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255, nullable: true })
  stripe_account_id!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;
}

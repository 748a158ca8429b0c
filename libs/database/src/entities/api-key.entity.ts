import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An `X-API-Key` credential. Only a SHA-256 of the full key is stored: the secret part carries
 * 256 random bits, so a slow password hash would add latency to every request and no protection.
 */
@Entity({ name: 'api_keys' })
@Index('ix_api_keys_created', ['created_at', 'id'])
@Index('ix_api_keys_tenant_created', ['tenant_id', 'created_at', 'id'])
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The visible id embedded in the key (`ck_<env>_<public_id>_<secret>`): how a presented key finds its row. */
  @Index('uq_api_keys_public_id', { unique: true })
  @Column({ name: 'public_id', type: 'varchar', length: 32 })
  public_id!: string;

  @Column({ type: 'varchar', length: 8 })
  env!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Hex SHA-256 of the whole key. */
  @Column({ name: 'secret_hash', type: 'char', length: 64 })
  secret_hash!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  /** Null for platform keys, which act for any tenant. */
  @Column({ name: 'tenant_id', type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  /** Null: never expires. A rotation sets it to the end of the grace period. */
  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3, nullable: true })
  expires_at!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revoked_at!: Date | null;

  /** The key that replaced this one by rotation. */
  @Column({ name: 'replaced_by_id', type: 'uuid', nullable: true })
  replaced_by_id!: string | null;

  /** Written at most once a minute per key, off the request path. */
  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  last_used_at!: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  created_by!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;
}

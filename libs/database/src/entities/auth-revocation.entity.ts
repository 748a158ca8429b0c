import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';

export type RevocationKind = 'jti' | 'sid' | 'sub' | 'tenant';

/**
 * A JWT revocation: one token (`jti`), one identity-provider login session (`sid`), one subject's tokens issued
 * before a time, or a whole tenant's. `tenant_id` is the scope: '' (platform-wide) covers callers of every tenant.
 * Kept until `expires_at`, when no token it covers can still be valid (JWT_MAX_TTL_SECONDS bounds every token).
 */
@Entity({ name: 'auth_revocations' })
@Check('CK_auth_revocations_kind', `"kind" IN ('jti', 'sid', 'sub', 'tenant')`)
@Index('ix_auth_revocations_created', ['created_at', 'id'])
@Index('ix_auth_revocations_tenant_created', ['tenant_id', 'created_at', 'id'])
export class AuthRevocationEntity {
  @PrimaryColumn({
    name: 'tenant_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'PK_auth_revocations',
  })
  tenant_id!: string;

  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_auth_revocations' })
  id!: string;

  @Column({ type: 'varchar', length: 8 })
  kind!: RevocationKind;

  /** The revoked `jti`, `sid` or `sub`; null for a tenant-wide revocation. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  value!: string | null;

  /** Tokens whose `iat` is earlier are refused (sub and tenant kinds). */
  @Column({ name: 'issued_before', type: 'timestamptz', precision: 3, nullable: true })
  issued_before!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expires_at!: Date;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  created_by!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;
}

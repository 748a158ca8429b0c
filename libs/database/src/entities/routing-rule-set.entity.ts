import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export enum RuleSetStatus {
  Draft = 'draft',
  Active = 'active',
  Retired = 'retired',
}

/**
 * A versioned routing rule set of the platform. Its rules and default route never change after creation (a
 * trigger refuses it); activation moves the one `active` row (a partial unique index allows one at a time).
 */
@Entity({ name: 'routing_rule_sets' })
@Index('uq_routing_rule_sets_active', ['status'], { unique: true, where: "status = 'active'" })
@Index('ix_routing_rule_sets_created', ['created_at', 'id'])
export class RoutingRuleSetEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Assigned at creation from a sequence: a replica compares it to the version it compiled. */
  @Index('uq_routing_rule_sets_version', { unique: true })
  @Column({ type: 'integer' })
  version!: number;

  @Column({
    type: 'enum',
    enum: RuleSetStatus,
    enumName: 'routing_rule_set_status',
    default: RuleSetStatus.Draft,
  })
  status!: RuleSetStatus;

  @Column({ type: 'jsonb' })
  rules!: unknown[];

  @Column({ name: 'default_route', type: 'jsonb' })
  default_route!: Record<string, unknown>;

  /** The rule set that was active when this one was activated: what a rollback restores. */
  @Column({ name: 'previous_id', type: 'uuid', nullable: true })
  previous_id!: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255, nullable: true })
  created_by!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @Column({ name: 'activated_at', type: 'timestamptz', nullable: true })
  activated_at!: Date | null;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retired_at!: Date | null;
}

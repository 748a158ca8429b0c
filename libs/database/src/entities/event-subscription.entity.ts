import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum EventSubscriptionStatus {
  Active = 'active',
  /** Stopped after persistent delivery failures (or by hand); `POST .../enable` resumes it. */
  Disabled = 'disabled',
}

/** A platform endpoint that receives ConnectEvents, signed per the Standard Webhooks convention. */
@Entity({ name: 'event_subscriptions' })
@Index('ix_event_subscriptions_tenant_created', ['tenant_id', 'created_at', 'id'])
export class EventSubscriptionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Null: every tenant's events (platform subscriptions only). */
  @Column({ name: 'tenant_id', type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** Event type names, or ['*'] for all. */
  @Column({ name: 'event_types', type: 'text', array: true })
  event_types!: string[];

  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  /** The `whsec_` signing secret, sealed with SecretBox (context `event_subscriptions.secret:<id>`); never returned after creation. */
  @Column({ name: 'secret_enc', type: 'text' })
  secret_enc!: string;

  @Column({
    type: 'enum',
    enum: EventSubscriptionStatus,
    enumName: 'event_subscription_status',
    default: EventSubscriptionStatus.Active,
  })
  status!: EventSubscriptionStatus;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabled_reason!: string | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabled_at!: Date | null;

  /** Deliveries that exhausted every attempt since the last success; reaching the threshold disables the subscription. */
  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutive_failures!: number;

  @Column({ name: 'created_by', type: 'varchar', length: 255, nullable: true })
  created_by!: string | null;

  /** Deleted subscriptions are kept (soft delete) so their delivery history stays readable. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deleted_at!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { ConnectEventEntity } from './connect-event.entity';
import { EventSubscriptionEntity } from './event-subscription.entity';

export enum EventDeliveryStatus {
  Pending = 'pending',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

/** One ConnectEvent to one subscription. Unique per pair, so a re-run of the fan-out cannot duplicate it. */
@Entity({ name: 'event_deliveries' })
@Unique('uq_event_deliveries_event_subscription', ['event_id', 'subscription_id', 'tenant_id'])
@Index('ix_event_deliveries_pending', ['status'], { where: `status = 'pending'` })
export class EventDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The event's tenant, carried so every tenant-owned row can be scoped and partitioned by it. */
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  event_id!: string;

  @ManyToOne(() => ConnectEventEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'tenant_id', referencedColumnName: 'tenant_id' },
    { name: 'event_id', referencedColumnName: 'id' },
  ])
  event?: ConnectEventEntity;

  @Index('ix_event_deliveries_subscription_id')
  @Column({ name: 'subscription_id', type: 'uuid' })
  subscription_id!: string;

  @ManyToOne(() => EventSubscriptionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'subscription_id' })
  subscription?: EventSubscriptionEntity;

  @Column({
    type: 'enum',
    enum: EventDeliveryStatus,
    enumName: 'event_delivery_status',
    default: EventDeliveryStatus.Pending,
  })
  status!: EventDeliveryStatus;

  /** Attempts made so far, across every round. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /**
   * Incremented by a manual redelivery: a job from an older round finds a newer round and stops, so a redelivery
   * never runs two retry chains side by side.
   */
  @Column({ type: 'integer', default: 1 })
  round!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  next_attempt_at!: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  last_status_code!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  last_error!: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  delivered_at!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

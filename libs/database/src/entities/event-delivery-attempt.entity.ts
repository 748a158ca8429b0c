import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { EventDeliveryEntity } from './event-delivery.entity';

/** The per-attempt log of an outbound delivery (status code, duration, error). */
@Entity({ name: 'event_delivery_attempts' })
@Unique('uq_event_delivery_attempts_delivery_attempt', ['delivery_id', 'attempt_no', 'tenant_id'])
export class EventDeliveryAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The delivery's tenant: attempts live on their delivery's shard when the database is sharded. */
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ name: 'delivery_id', type: 'uuid' })
  delivery_id!: string;

  @ManyToOne(() => EventDeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'tenant_id', referencedColumnName: 'tenant_id' },
    { name: 'delivery_id', referencedColumnName: 'id' },
  ])
  delivery?: EventDeliveryEntity;

  /** 1-based, counted across rounds of the same delivery. */
  @Column({ name: 'attempt_no', type: 'integer' })
  attempt_no!: number;

  /** Null when no HTTP response arrived (connection refused, timeout). */
  @Column({ name: 'status_code', type: 'integer', nullable: true })
  status_code!: number | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  duration_ms!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The first 1 KB of the receiver's answer, for debugging its rejections. */
  @Column({ name: 'response_body', type: 'varchar', length: 1024, nullable: true })
  response_body!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;
}

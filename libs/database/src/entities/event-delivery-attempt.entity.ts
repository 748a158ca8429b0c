import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { EventDeliveryEntity } from './event-delivery.entity';

/** The per-attempt log of an outbound delivery (status code, duration, error). */
@Entity({ name: 'event_delivery_attempts' })
@Unique('uq_event_delivery_attempts_delivery_attempt', ['delivery_id', 'attempt_no'])
export class EventDeliveryAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'delivery_id', type: 'uuid' })
  delivery_id!: string;

  @ManyToOne(() => EventDeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
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

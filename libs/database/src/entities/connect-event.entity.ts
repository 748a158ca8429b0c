import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The seed's ConnectEvent: what we tell the platform. Written in the same transaction as the state change that
 * caused it (transactional outbox), then fanned out to subscriptions by a job.
 */
@Entity({ name: 'connect_events' })
@Index('ix_connect_events_tenant_created', ['tenant_id', 'created_at', 'id'])
@Index('ix_connect_events_created', ['created_at', 'id'])
export class ConnectEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  /** One of CONNECT_EVENT_TYPES (apps/connect-service/src/events/connect-event-types.ts). */
  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ type: 'jsonb', default: {} })
  data!: Record<string, unknown>;

  /** Millisecond precision, so the keyset cursor (an ISO string) round-trips exactly through a JS Date. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  created_at!: Date;
}

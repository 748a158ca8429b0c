import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * The service's own Stripe event destinations (thin events). Platform-wide and small: a reference table when
 * sharded, like the other global tables. The signing secret is stored sealed (Stripe shows it only at creation).
 */
@Entity({ name: 'event_destinations' })
export class EventDestinationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_event_destinations_stripe_id', { unique: true })
  @Column({ name: 'stripe_destination_id', type: 'varchar', length: 255 })
  stripe_destination_id!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ name: 'enabled_events', type: 'jsonb', default: [] })
  enabled_events!: string[];

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  /** SecretBox ciphertext of the `whsec_` signing secret, bound to the destination id. */
  @Column({ name: 'secret_enc', type: 'text', nullable: true })
  secret_enc!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;
}

import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export enum StripeWebhookEventStatus {
  /** Stored and enqueued; not processed yet. */
  Received = 'received',
  Processed = 'processed',
  /** The last attempt threw; pg-boss retries it. */
  Failed = 'failed',
  /** Every retry failed: the job reached the dead-letter queue. Replay it once the cause is fixed. */
  Dead = 'dead',
  /** No tenant owns the account or object; kept (not retried) so a replay can pick it up later. */
  Unmatched = 'unmatched',
  /** Nothing to do: no handler for the type, or a livemode other than the configured key's. */
  Ignored = 'ignored',
}

/** States a processing job finds and leaves alone: what makes a second job for one event a no-op. */
export const SETTLED_WEBHOOK_STATUSES: readonly StripeWebhookEventStatus[] = [
  StripeWebhookEventStatus.Processed,
  StripeWebhookEventStatus.Ignored,
  StripeWebhookEventStatus.Unmatched,
];

/** States still waiting for processing (first try or a retry): the only ones a failure or the dead letter moves. */
export const WAITING_WEBHOOK_STATUSES: readonly StripeWebhookEventStatus[] = [
  StripeWebhookEventStatus.Received,
  StripeWebhookEventStatus.Failed,
];

export enum StripeWebhookEventSource {
  Webhook = 'webhook',
  Backfill = 'backfill',
  Replay = 'replay',
}

const bigintAsNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/**
 * The durable webhook inbox: one row per Stripe event id, whatever the number of deliveries,
 * written before Stripe gets its 2xx. Processing state lives here; pg-boss only carries the work.
 */
@Entity({ name: 'stripe_webhook_events' })
@Index('ix_stripe_webhook_events_received', ['received_at', 'id'])
@Index('ix_stripe_webhook_events_tenant_received', ['tenant_id', 'received_at', 'id'])
@Index('ix_stripe_webhook_events_status_received', ['status', 'received_at'])
export class StripeWebhookEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /**
   * Stripe delivers at least once: the unique key is what makes a duplicate delivery a no-op. Also in the primary
   * key: the inbox's distribution column when the database is sharded, since intake may not know the tenant yet.
   */
  @Index('uq_stripe_webhook_events_stripe_event_id', { unique: true })
  @PrimaryColumn({ name: 'stripe_event_id', type: 'varchar', length: 255 })
  stripe_event_id!: string;

  @Column({ type: 'varchar', length: 255 })
  type!: string;

  /** `event.account`: set for events of connected accounts (Connect endpoint), null for the platform's own. */
  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255, nullable: true })
  stripe_account_id!: string | null;

  /** Resolved while processing; null until then, and for unmatched events. */
  @Column({ name: 'tenant_id', type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'boolean' })
  livemode!: boolean;

  @Column({ name: 'api_version', type: 'varchar', length: 64, nullable: true })
  api_version!: string | null;

  /** Stripe's `created` (unix seconds): the ordering key handlers compare against. */
  @Column({ name: 'event_created', type: 'bigint', transformer: bigintAsNumber })
  event_created!: number;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({
    type: 'enum',
    enum: StripeWebhookEventStatus,
    enumName: 'stripe_webhook_event_status',
    default: StripeWebhookEventStatus.Received,
  })
  status!: StripeWebhookEventStatus;

  /** What processing concluded: applied, stale, skipped, no_handler, unmatched, livemode_mismatch. */
  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  last_error!: string | null;

  @Column({
    type: 'enum',
    enum: StripeWebhookEventSource,
    enumName: 'stripe_webhook_event_source',
    default: StripeWebhookEventSource.Webhook,
  })
  source!: StripeWebhookEventSource;

  /** Millisecond precision, so the keyset cursor (an ISO string) round-trips exactly through a JS Date. */
  @Column({ name: 'received_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  received_at!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processed_at!: Date | null;
}

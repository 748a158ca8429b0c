import {
  Column,
  PrimaryColumn,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';

export enum PaymentRouteType {
  Payment = 'payment',
  Refund = 'refund',
  Subscription = 'subscription',
  /** One tenant's share of a split payment: a Stripe transfer (`tr_`) from the platform charge (`parent_id`). */
  Transfer = 'transfer',
}

export enum PaymentRouteStatus {
  Pending = 'pending',
  RequiresAction = 'requires_action',
  Processing = 'processing',
  Completed = 'completed',
  Failed = 'failed',
  Canceled = 'canceled',
}

/** A failed or canceled route moved no money: refundable rests and replays leave it out. */
export const VOID_ROUTE_STATUSES: readonly PaymentRouteStatus[] = [
  PaymentRouteStatus.Failed,
  PaymentRouteStatus.Canceled,
];

/** Still waiting on Stripe's answer: the PaymentIntent's status may move a route out of these (never back). */
export const OPEN_ROUTE_STATUSES: readonly PaymentRouteStatus[] = [
  PaymentRouteStatus.Pending,
  PaymentRouteStatus.RequiresAction,
];

/** Final for a failure: a route in one of these is never marked failed (again). */
export const UNFAILABLE_ROUTE_STATUSES: readonly PaymentRouteStatus[] = [
  PaymentRouteStatus.Completed,
  PaymentRouteStatus.Failed,
];

export enum ChargeType {
  Direct = 'direct',
  Destination = 'destination',
  /** Separate charges and transfers: https://docs.stripe.com/connect/separate-charges-and-transfers */
  Separate = 'separate',
}

/** One try at routing a payment: the route tried, its outcome and why it failed. */
export interface PaymentAttempt {
  route: Record<string, unknown>;
  outcome: 'succeeded' | 'failed' | 'not_eligible' | 'unknown';
  failure_code: string | null;
  payment_intent: string | null;
  idempotency_key?: string;
  message?: string;
}

/** The seed's PaymentRoute: one payment, refund or subscription routed to a tenant's Stripe account. */
@Entity({ name: 'payment_routes' })
@Index('ix_payment_routes_tenant_created', ['tenant_id', 'created_at', 'id'])
@Index('uq_payment_routes_payment_intent', ['stripe_payment_intent_id', 'tenant_id'], {
  unique: true,
  where: "stripe_payment_intent_id IS NOT NULL AND type = 'payment'",
})
@Index('uq_payment_routes_stripe_object', ['stripe_object_id', 'tenant_id'], {
  unique: true,
  where: 'stripe_object_id IS NOT NULL',
})
@Index('uq_payment_routes_stripe_idempotency_key', ['stripe_idempotency_key', 'tenant_id'], { unique: true })
export class PaymentRouteEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** In every key: the distribution column when the database is sharded (docs/sharding.md). */
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Index('ix_payment_routes_stripe_account_id')
  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @Column({ type: 'enum', enum: PaymentRouteType, enumName: 'payment_route_type' })
  type!: PaymentRouteType;

  @Column({
    type: 'enum',
    enum: PaymentRouteStatus,
    enumName: 'payment_route_status',
    default: PaymentRouteStatus.Pending,
  })
  status!: PaymentRouteStatus;

  @Column({ name: 'charge_type', type: 'enum', enum: ChargeType, enumName: 'charge_type', nullable: true })
  charge_type!: ChargeType | null;

  /** Integer minor units of `currency` (https://docs.stripe.com/currencies#minor-units); at most 99 999 999. */
  @Column({ type: 'integer' })
  amount!: number;

  /** The platform's application fee, in minor units of `currency`. */
  @Column({ type: 'integer', default: 0 })
  fee!: number;

  /** ISO 4217, lower case as Stripe sends it. */
  @Column({ type: 'char', length: 3 })
  currency!: string;

  /** For a refund: the payment it refunds. */
  @Index('ix_payment_routes_parent_id')
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parent_id!: string | null;

  @Column({ name: 'stripe_payment_intent_id', type: 'varchar', length: 255, nullable: true })
  stripe_payment_intent_id!: string | null;

  @Column({ name: 'stripe_object_id', type: 'varchar', length: 255, nullable: true })
  stripe_object_id!: string | null;

  /** The key sent to Stripe: derived from this route, so a retry can never create a second object. */
  @Column({ name: 'stripe_idempotency_key', type: 'varchar', length: 255 })
  stripe_idempotency_key!: string;

  /** Stripe's own status of the object (PaymentIntent, Refund or Subscription) as last seen. */
  @Column({ name: 'stripe_status', type: 'varchar', length: 64, nullable: true })
  stripe_status!: string | null;

  /** Facts Stripe reported after routing: `dispute` (charge.dispute.*), `application_fee` (application_fee.*). */
  @Column({ name: 'stripe_details', type: 'jsonb', default: {} })
  stripe_details!: Record<string, unknown>;

  @Column({ name: 'failure_code', type: 'varchar', length: 128, nullable: true })
  failure_code!: string | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failure_message!: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description!: string | null;

  @Column({ type: 'jsonb', default: {} })
  metadata!: Record<string, string>;

  /** Newest Stripe event applied (unix seconds + id), so older events never roll state back. */
  @Column({
    name: 'last_event_created',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v) => v, from: (v) => (v === null ? null : Number(v)) },
  })
  last_event_created!: number | null;

  @Column({ name: 'last_event_id', type: 'varchar', length: 255, nullable: true })
  last_event_id!: string | null;

  /** The routing rule set (id and version) and the rule that decided this route; null without an active rule set. */
  @Column({ name: 'routing_rule_set_id', type: 'uuid', nullable: true })
  routing_rule_set_id!: string | null;

  @Column({ name: 'routing_version', type: 'integer', nullable: true })
  routing_version!: number | null;

  /** The deciding rule's name; null when the rule set's default route decided. */
  @Column({ name: 'routing_rule', type: 'varchar', length: 200, nullable: true })
  routing_rule!: string | null;

  /** Every routing attempt in order (alternative routing), each with its own idempotency key. */
  @Column({ type: 'jsonb', default: [] })
  attempts!: PaymentAttempt[];

  /** Split payments and separate charges: Stripe's transfer_group shared by the charge and its transfers. */
  @Column({ name: 'transfer_group', type: 'varchar', length: 255, nullable: true })
  transfer_group!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;

  @VersionColumn({ default: 1 })
  version!: number;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

const counter = { to: (v: number) => v, from: (v: string | number) => Number(v) };

/**
 * One bucket of the analytics rollups: what the payment routes of one combination of dimensions contributed
 * to one UTC hour or day. Maintained only by the `analytics_rollup_route` trigger on payment_routes (same
 * transaction as the route change) and by the rebuild command; never written by application code.
 * `charge_type` and `routing_rule` hold '' for "none" so that they can be part of the primary key.
 */
abstract class AnalyticsRollupColumns {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @PrimaryColumn({ name: 'bucket_start', type: 'timestamptz' })
  bucket_start!: Date;

  @PrimaryColumn({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @PrimaryColumn({ type: 'char', length: 3 })
  currency!: string;

  @PrimaryColumn({ name: 'charge_type', type: 'varchar', length: 16 })
  charge_type!: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  type!: string;

  @PrimaryColumn({ name: 'routing_rule', type: 'varchar', length: 200 })
  routing_rule!: string;

  @Column({ name: 'payments_attempted', type: 'bigint', default: 0, transformer: counter })
  payments_attempted!: number;

  @Column({ name: 'payments_succeeded', type: 'bigint', default: 0, transformer: counter })
  payments_succeeded!: number;

  @Column({ name: 'payments_failed', type: 'bigint', default: 0, transformer: counter })
  payments_failed!: number;

  @Column({ name: 'payments_declined', type: 'bigint', default: 0, transformer: counter })
  payments_declined!: number;

  @Column({ name: 'gross_volume', type: 'bigint', default: 0, transformer: counter })
  gross_volume!: number;

  @Column({ name: 'fees_collected', type: 'bigint', default: 0, transformer: counter })
  fees_collected!: number;

  @Column({ name: 'fees_refunded', type: 'bigint', default: 0, transformer: counter })
  fees_refunded!: number;

  @Column({ name: 'refunds_count', type: 'bigint', default: 0, transformer: counter })
  refunds_count!: number;

  @Column({ name: 'refunds_amount', type: 'bigint', default: 0, transformer: counter })
  refunds_amount!: number;

  @Column({ name: 'disputes_count', type: 'bigint', default: 0, transformer: counter })
  disputes_count!: number;

  @Column({ name: 'disputes_amount', type: 'bigint', default: 0, transformer: counter })
  disputes_amount!: number;

  @Column({ name: 'transfer_volume', type: 'bigint', default: 0, transformer: counter })
  transfer_volume!: number;
}

/** Hourly buckets (`bucket_start` on a UTC hour). */
@Entity({ name: 'analytics_rollups_hourly' })
@Index('ix_analytics_rollups_hourly_bucket', ['bucket_start'])
export class AnalyticsRollupHourlyEntity extends AnalyticsRollupColumns {}

/** Daily buckets (`bucket_start` on a UTC midnight). */
@Entity({ name: 'analytics_rollups_daily' })
@Index('ix_analytics_rollups_daily_bucket', ['bucket_start'])
export class AnalyticsRollupDailyEntity extends AnalyticsRollupColumns {}

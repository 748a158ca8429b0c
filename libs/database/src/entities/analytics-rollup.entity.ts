import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

const counter = { to: (v: number) => v, from: (v: string | number) => Number(v) };

/** The summed counters every rollup row and every delta carries (integers; amounts in minor units). */
abstract class AnalyticsCounters {
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

/** The dimensions shared by every rollup; '' stands for "none" in `charge_type` and `routing_rule` (key columns). */
abstract class AnalyticsSharedKey extends AnalyticsCounters {
  @PrimaryColumn({ name: 'bucket_start', type: 'timestamptz' })
  bucket_start!: Date;

  @PrimaryColumn({ type: 'char', length: 3 })
  currency!: string;

  @PrimaryColumn({ name: 'charge_type', type: 'varchar', length: 16 })
  charge_type!: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  type!: string;

  @PrimaryColumn({ name: 'routing_rule', type: 'varchar', length: 200 })
  routing_rule!: string;
}

/**
 * One bucket of the tenant rollups: what the payment routes of one combination of dimensions contributed to one
 * UTC hour or day. Written only by the fold (AnalyticsService.fold) and the rebuild, never by request code.
 */
abstract class AnalyticsTenantKey extends AnalyticsSharedKey {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @PrimaryColumn({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;
}

/** Hourly buckets (`bucket_start` on a UTC hour), per tenant and connected account. */
@Entity({ name: 'analytics_rollups_hourly' })
@Index('ix_analytics_rollups_hourly_tenant', ['tenant_id', 'bucket_start'])
export class AnalyticsRollupHourlyEntity extends AnalyticsTenantKey {}

/** Daily buckets (`bucket_start` on a UTC midnight), per tenant and connected account. */
@Entity({ name: 'analytics_rollups_daily' })
@Index('ix_analytics_rollups_daily_tenant', ['tenant_id', 'bucket_start'])
export class AnalyticsRollupDailyEntity extends AnalyticsTenantKey {}

/** Hourly buckets of the whole platform (no tenant or account): what platform-wide queries read. */
@Entity({ name: 'analytics_platform_rollups_hourly' })
export class AnalyticsPlatformRollupHourlyEntity extends AnalyticsSharedKey {}

/** Daily buckets of the whole platform (no tenant or account). */
@Entity({ name: 'analytics_platform_rollups_daily' })
export class AnalyticsPlatformRollupDailyEntity extends AnalyticsSharedKey {}

/**
 * What the trigger on payment_routes appends, in the transaction of each route change: the change of one route's
 * contribution to one hour (old row subtracted, new row added). Append-only, so concurrent payments never wait on
 * one another's bucket; the fold job moves deltas into the rollups, and queries add the deltas not folded yet.
 */
@Entity({ name: 'analytics_rollup_deltas' })
export class AnalyticsRollupDeltaEntity extends AnalyticsCounters {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  /** In the key: deltas live on their route's shard when the database is sharded (the trigger writes co-located). */
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ name: 'bucket_start', type: 'timestamptz' })
  bucket_start!: Date;

  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'charge_type', type: 'varchar', length: 16 })
  charge_type!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: string;

  @Column({ name: 'routing_rule', type: 'varchar', length: 200 })
  routing_rule!: string;
}

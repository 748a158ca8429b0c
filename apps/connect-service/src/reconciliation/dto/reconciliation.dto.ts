import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageDto, PageQueryDto, EXAMPLE_DATES } from '@app/common';
import {
  DriftCategory,
  DriftItemStatus,
  ReconciliationItemEntity,
  ReconciliationRunEntity,
  ReconciliationRunStatus,
} from '@app/database';

export const DRIFT_CATEGORIES = Object.values(DriftCategory);
export const DRIFT_ITEM_STATUSES = Object.values(DriftItemStatus);

export class CreateReconciliationRunDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description:
      'One tenant; omitted: every connected tenant (platform callers only). Tenant admins give their own.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  tenant_id?: string;

  @ApiProperty({
    example: EXAMPLE_DATES.today,
    format: 'date-time',
    description: 'Window start (inclusive).',
  })
  @IsISO8601({ strict: true })
  from!: string;

  @ApiProperty({
    example: EXAMPLE_DATES.tomorrow,
    format: 'date-time',
    description: 'Window end (exclusive).',
  })
  @IsISO8601({ strict: true })
  to!: string;

  @ApiPropertyOptional({
    example: false,
    default: false,
    description: 'Report only: heals nothing, changes no payment row, sends no ConnectEvent.',
  })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  @ApiPropertyOptional({
    example: 900,
    minimum: 0,
    maximum: 604800,
    description: 'Grace window of this run in seconds; default RECONCILIATION_GRACE_SECONDS.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(604_800)
  grace_seconds?: number;
}

export class ReconciliationRunDto {
  @ApiProperty({ example: '9b2f6a1c-3d4e-4f5a-8b6c-7d8e9f0a1b2c', format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ReconciliationRunStatus, example: 'completed' })
  status!: ReconciliationRunStatus;

  @ApiProperty({ example: 'tenant_acme', nullable: true, type: String, description: 'Null: every tenant.' })
  tenant_id!: string | null;

  @ApiProperty({ example: '2026-11-25T00:00:00.000Z', format: 'date-time' })
  from!: string;

  @ApiProperty({ example: '2026-11-26T00:00:00.000Z', format: 'date-time' })
  to!: string;

  @ApiProperty({ example: false })
  dry_run!: boolean;

  @ApiProperty({ example: 900 })
  grace_seconds!: number;

  @ApiProperty({ example: 'manual', enum: ['manual', 'scheduled'] })
  trigger!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { status_mismatch: 2, missing_local: 1 },
    description: 'Items this run saw, by category (filled when the run finishes).',
  })
  totals!: Record<string, number>;

  @ApiProperty({ example: 2 })
  healed!: number;

  @ApiProperty({ example: 1, description: 'Items no earlier run had reported.' })
  new_items!: number;

  @ApiProperty({ example: 37 })
  stripe_calls!: number;

  @ApiProperty({ example: null, nullable: true, type: String })
  error!: string | null;

  @ApiProperty({ example: '2026-11-26T02:41:00.120Z', format: 'date-time', nullable: true, type: String })
  started_at!: string | null;

  @ApiProperty({ example: '2026-11-26T02:41:09.870Z', format: 'date-time', nullable: true, type: String })
  finished_at!: string | null;

  @ApiProperty({ example: '2026-11-26T02:41:00.010Z', format: 'date-time' })
  created_at!: string;

  static from(r: ReconciliationRunEntity): ReconciliationRunDto {
    return {
      id: r.id,
      status: r.status,
      tenant_id: r.tenant_id,
      from: r.window_from.toISOString(),
      to: r.window_to.toISOString(),
      dry_run: r.dry_run,
      grace_seconds: r.grace_seconds,
      trigger: r.trigger,
      totals: r.totals,
      healed: r.healed,
      new_items: r.new_items,
      stripe_calls: r.stripe_calls,
      error: r.error,
      started_at: r.started_at?.toISOString() ?? null,
      finished_at: r.finished_at?.toISOString() ?? null,
      created_at: r.created_at.toISOString(),
    };
  }
}

export class ReconciliationRunListDto extends PageDto(ReconciliationRunDto) {}

export class ListReconciliationRunsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'tenant_acme', description: 'Platform callers may filter by tenant.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;
}

export class ReconciliationItemDto {
  @ApiProperty({ example: '5d6e7f80-1a2b-4c3d-9e4f-5a6b7c8d9e0f', format: 'uuid' })
  id!: string;

  @ApiProperty({
    example: '9b2f6a1c-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
    format: 'uuid',
    description: 'The run that first reported it.',
  })
  run_id!: string;

  @ApiProperty({
    example: '9b2f6a1c-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
    format: 'uuid',
    description: 'The latest run that saw it.',
  })
  last_run_id!: string;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ enum: DriftCategory, example: 'status_mismatch' })
  category!: DriftCategory;

  @ApiProperty({ enum: DriftItemStatus, example: 'healed' })
  status!: DriftItemStatus;

  @ApiProperty({
    example: '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90',
    format: 'uuid',
    nullable: true,
    type: String,
  })
  payment_route_id!: string | null;

  @ApiProperty({ example: 'pi_3QxYz0AbCdEf', nullable: true, type: String })
  stripe_object_id!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { type: 'payment', status: 'pending', amount: 5000, currency: 'usd', fee: 175 },
    description: 'Our side (empty when we hold nothing).',
  })
  local!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { id: 'pi_3QxYz0AbCdEf', status: 'succeeded', amount: 5000, currency: 'usd' },
    description: "Stripe's side (empty when Stripe holds nothing).",
  })
  stripe!: Record<string, unknown>;

  @ApiProperty({ example: 'healed: payment_intent.succeeded replayed', nullable: true, type: String })
  note!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  resolved_by!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  resolved_at!: string | null;

  @ApiProperty({ example: '2026-11-26T02:41:03.500Z', format: 'date-time' })
  created_at!: string;

  static from(i: ReconciliationItemEntity): ReconciliationItemDto {
    return {
      id: i.id,
      run_id: i.run_id,
      last_run_id: i.last_run_id,
      tenant_id: i.tenant_id,
      category: i.category,
      status: i.status,
      payment_route_id: i.payment_route_id,
      stripe_object_id: i.stripe_object_id,
      local: i.local,
      stripe: i.stripe,
      note: i.note,
      resolved_by: i.resolved_by,
      resolved_at: i.resolved_at?.toISOString() ?? null,
      created_at: i.created_at.toISOString(),
    };
  }
}

export class ReconciliationItemListDto extends PageDto(ReconciliationItemDto) {}

export class ListReconciliationItemsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DRIFT_CATEGORIES, example: 'status_mismatch' })
  @IsOptional()
  @IsIn(DRIFT_CATEGORIES)
  category?: DriftCategory;

  @ApiPropertyOptional({ enum: DRIFT_ITEM_STATUSES, example: 'mismatched' })
  @IsOptional()
  @IsIn(DRIFT_ITEM_STATUSES)
  status?: DriftItemStatus;
}

export class ResolveReconciliationItemDto {
  @ApiProperty({
    example: 'Refunded by support in the Dashboard; customer informed (ticket 4411).',
    maxLength: 2000,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  note!: string;
}

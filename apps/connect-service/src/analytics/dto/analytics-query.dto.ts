import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_DATES } from '@app/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { DIMENSIONS, Dimension, METRICS, Metric } from '../analytics-metrics';

export const GRANULARITIES = ['1h', '1d', 'total'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export class TimeRangeDto {
  @ApiProperty({ example: EXAMPLE_DATES.yearStart, description: 'Inclusive; ISO 8601, on a UTC hour.' })
  @IsISO8601({ strict: true })
  from!: string;

  @ApiProperty({ example: EXAMPLE_DATES.nextYearStart, description: 'Exclusive; ISO 8601, on a UTC hour.' })
  @IsISO8601({ strict: true })
  to!: string;
}

const filterValues = (dimension: Dimension, example: string[]): PropertyDecorator => {
  const decorators = [
    ApiPropertyOptional({ type: [String], example, description: `Only these ${dimension} values.` }),
    IsOptional(),
    IsArray(),
    ArrayNotEmpty(),
    ArrayMaxSize(100),
    IsString({ each: true }),
    MaxLength(255, { each: true }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
};

/** Each dimension's allowed values (any of them); a tenant caller's tenant_id is always its own. */
export class AnalyticsFiltersDto {
  @filterValues('tenant_id', ['tenant_acme'])
  tenant_id?: string[];

  @filterValues('stripe_account_id', ['acct_1PqRsTuVwXyZ0123'])
  stripe_account_id?: string[];

  @filterValues('currency', ['usd'])
  currency?: string[];

  @filterValues('charge_type', ['direct'])
  charge_type?: string[];

  @filterValues('type', ['payment'])
  type?: string[];

  @filterValues('routing_rule', ['eu-cards'])
  routing_rule?: string[];
}

export class AnalyticsQueryDto {
  @ApiProperty({ type: TimeRangeDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => TimeRangeDto)
  time_range!: TimeRangeDto;

  @ApiProperty({ enum: GRANULARITIES, example: '1d' })
  @IsIn(GRANULARITIES)
  granularity!: Granularity;

  @ApiPropertyOptional({ enum: DIMENSIONS, isArray: true, example: ['currency'] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(DIMENSIONS, { each: true })
  group_by?: Dimension[];

  @ApiPropertyOptional({ type: AnalyticsFiltersDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AnalyticsFiltersDto)
  filters?: AnalyticsFiltersDto;

  @ApiProperty({ enum: METRICS, isArray: true, example: ['fees_collected', 'net_platform_revenue'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(METRICS, { each: true })
  metrics!: Metric[];
}

const GROUP_EXAMPLE = { currency: 'usd' };
const METRICS_EXAMPLE = { fees_collected: 12_840, net_platform_revenue: 12_500 };

export class AnalyticsBucketDto {
  @ApiProperty({ example: '2026-11-01T00:00:00.000Z' })
  start!: string;

  @ApiProperty({ example: '2026-11-02T00:00:00.000Z', description: 'Exclusive.' })
  end!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
    example: GROUP_EXAMPLE,
    description: 'The value of each `group_by` dimension (null: none, e.g. no routing rule decided).',
  })
  group!: Record<string, string | null>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    example: METRICS_EXAMPLE,
    description: 'Each requested metric; amounts in minor units of `group.currency`; a ratio over 0 is null.',
  })
  metrics!: Record<string, number | null>;
}

export class AnalyticsTotalDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
    example: GROUP_EXAMPLE,
  })
  group!: Record<string, string | null>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    example: { fees_collected: 385_200, net_platform_revenue: 371_940 },
  })
  metrics!: Record<string, number | null>;
}

export class AnalyticsResultDto {
  @ApiProperty({
    type: [AnalyticsBucketDto],
    description: 'Buckets that counted something, by start, then group.',
  })
  buckets!: AnalyticsBucketDto[];

  @ApiProperty({ type: [AnalyticsTotalDto], description: 'One per group, over the whole time range.' })
  totals!: AnalyticsTotalDto[];
}

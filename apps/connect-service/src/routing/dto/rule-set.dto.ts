import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PageDto, PageQueryDto, EXAMPLE_DATES } from '@app/common';
import { RoutingRuleSetEntity, RuleSetStatus } from '@app/database';
import { PaymentDataDto } from '../../payments/dto/payment.dto';
import type { Route, Rule } from '../rule-types';

/** The example rule set of docs/routing.md: small USD direct, EUR destination on behalf, large manual, gold tier. */
export const EXAMPLE_RULES: Rule[] = [
  {
    name: 'large-manual-capture',
    when: { field: 'amount', op: 'gt', value: 1_000_000 },
    route: { charge_type: 'direct', capture_method: 'manual', fee: { basis_points: 350 } },
  },
  {
    name: 'gold-tier',
    when: { field: 'tenant.tier', op: 'eq', value: 'gold' },
    route: { charge_type: 'direct', fee: { basis_points: 150 } },
  },
  {
    name: 'eur-destination',
    when: { field: 'currency', op: 'eq', value: 'eur' },
    route: { charge_type: 'destination', on_behalf_of: true, fee: { basis_points: 250 } },
  },
  {
    name: 'small-usd-direct',
    when: {
      all: [
        { field: 'currency', op: 'eq', value: 'usd' },
        { field: 'amount', op: 'lte', value: 5_000 },
      ],
    },
    route: { charge_type: 'direct', fee: { basis_points: 290, fixed: { usd: 30 } } },
    alternatives: [{ charge_type: 'destination' }],
  },
];
export const EXAMPLE_DEFAULT: Route = { charge_type: 'direct' };

const RULES_DESCRIPTION =
  'Evaluated in order; the first rule whose `when` matches decides. Rule: `{name, when, route, alternatives?, ' +
  'split_volume?: [{weight, route}]}`. Condition: `{field, op, value}` (op: eq ne lt lte gt gte in nin between) ' +
  'or `{all: [...]}` / `{any: [...]}` / `{not: ...}`. Fields: amount, currency, tenant_id, tenant.<label>, ' +
  'account.country, account.status, account.capabilities.<name>, payment_method_type, card.brand, card.country, ' +
  'metadata.<key>.';
const ROUTE_DESCRIPTION =
  'Route: `{charge_type?: direct|destination|separate, fee?: FeeSchedule, on_behalf_of?, capture_method?: ' +
  'automatic|manual, statement_descriptor_suffix?, split?: [{tenant_id, amount? | share_bps?}], block?: {reason}}`.';

export class CreateRuleSetDto {
  @ApiProperty({ example: 'checkout-2026-12' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: EXAMPLE_RULES,
    description: RULES_DESCRIPTION,
  })
  @IsArray()
  @ArrayMaxSize(5_000)
  rules!: Rule[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_DEFAULT,
    description: `The route when no rule matches. ${ROUTE_DESCRIPTION}`,
  })
  @IsDefined()
  @IsObject()
  default!: Route;
}

export class RuleSetDto {
  @ApiProperty({ example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'checkout-2026-12' })
  name!: string;

  @ApiProperty({ example: 3, description: 'Unique and increasing; recorded on every payment it routes.' })
  version!: number;

  @ApiProperty({ enum: RuleSetStatus, example: RuleSetStatus.Active })
  status!: RuleSetStatus;

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: EXAMPLE_RULES,
  })
  rules!: unknown[];

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_DEFAULT })
  default!: Record<string, unknown>;

  @ApiProperty({ example: '2026-12-01T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ example: '2026-12-01T10:05:00.000Z', nullable: true, type: String })
  activated_at!: string | null;

  static from(e: RoutingRuleSetEntity): RuleSetDto {
    return {
      id: e.id,
      name: e.name,
      version: e.version,
      status: e.status,
      rules: e.rules,
      default: e.default_route,
      created_at: e.created_at.toISOString(),
      activated_at: e.activated_at ? e.activated_at.toISOString() : null,
    };
  }
}

export class RuleSetListDto extends PageDto(RuleSetDto) {}

export class ListRuleSetsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: RuleSetStatus })
  @IsOptional()
  @IsIn(Object.values(RuleSetStatus))
  status?: RuleSetStatus;
}

export class RuleSetProblemDto {
  @ApiProperty({
    example: 'gold-tier',
    nullable: true,
    type: String,
    description: 'Null: the rule set itself.',
  })
  rule!: string | null;

  @ApiProperty({ example: 'unreachable: every payment it matches is matched by an earlier rule' })
  message!: string;
}

export class ValidationResultDto {
  @ApiProperty({ example: false })
  valid!: boolean;

  @ApiProperty({ type: [RuleSetProblemDto] })
  problems!: RuleSetProblemDto[];
}

export class SimulatedPaymentDto extends PaymentDataDto {
  @ApiProperty({ example: 'tenant_acme' })
  @IsString()
  @MaxLength(128)
  tenant_id!: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The route id a volume split hashes; default: a fresh one (answered in `route_id`).',
  })
  @IsOptional()
  @IsUUID()
  route_id?: string;
}

export class SimulateDto {
  @ApiProperty({
    type: SimulatedPaymentDto,
    example: { tenant_id: 'tenant_acme', amount: 2_000_000, currency: 'usd', metadata: { channel: 'web' } },
  })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => SimulatedPaymentDto)
  payment!: SimulatedPaymentDto;
}

export class SimulationDto {
  @ApiProperty({
    example: 'large-manual-capture',
    nullable: true,
    type: String,
    description: 'Null: the default.',
  })
  rule!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { charge_type: 'direct', capture_method: 'manual', fee: { basis_points: 350 } },
  })
  route!: Route;

  @ApiProperty({ example: 70_000, description: 'The platform fee the route takes, minor units.' })
  fee!: number;

  @ApiProperty({ example: false })
  blocked!: boolean;

  @ApiPropertyOptional({ example: null, nullable: true, type: String })
  block_reason!: string | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: [
      {
        rule: 'large-manual-capture',
        matched: true,
        checks: [{ field: 'amount', op: 'gt', value: 1_000_000, actual: 2_000_000, result: true }],
      },
    ],
    description: 'Each rule tried in order, with every condition checked and what the field held.',
  })
  trace!: unknown[];

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, example: [] })
  alternatives!: Route[];

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: [],
    description: 'Split routes: each tenant’s transfer, minor units.',
  })
  transfers!: { tenant_id: string; amount: number }[];

  @ApiProperty({ format: 'uuid', example: '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90' })
  route_id!: string;
}

export class ReplayDto {
  @ApiProperty({ example: EXAMPLE_DATES.yearStart })
  @IsISO8601()
  from!: string;

  @ApiProperty({ example: EXAMPLE_DATES.nextYearStart })
  @IsISO8601()
  to!: string;
}

export class ReplayResultDto {
  @ApiProperty({ example: 1200, description: 'Payments created in [from, to) (not failed or canceled).' })
  payments!: number;

  @ApiProperty({
    example: 85,
    description: 'Payments the rule set would route differently (charge type, fee, block).',
  })
  changed!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { 'gold-tier': { payments: 80, changed: 80 }, default: { payments: 1120, changed: 5 } },
    description: 'Per deciding rule (`default` for the default route).',
  })
  by_rule!: Record<string, { payments: number; changed: number }>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { usd: -11_250, eur: 0 },
    description: 'Fee revenue under the rule set minus the fees taken, per currency, minor units.',
  })
  fee_delta_by_currency!: Record<string, number>;
}

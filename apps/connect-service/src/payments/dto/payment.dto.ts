import { PageDto, PageQueryDto, EXAMPLE_DATES } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ChargeType,
  PaymentAttempt,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
} from '@app/database';

export class CardFactsDto {
  @ApiPropertyOptional({ example: 'visa' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  brand?: string;

  @ApiPropertyOptional({ example: 'US', description: 'ISO 3166-1 alpha-2 of the issuing country.' })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'card.country must be an upper-case ISO 3166-1 alpha-2 code' })
  country?: string;
}

export class PaymentDataDto {
  @ApiProperty({
    example: 2000,
    description:
      'Integer minor units of `currency` (https://docs.stripe.com/currencies#minor-units), at most 99 999 999.',
  })
  @IsInt()
  amount!: number;

  @ApiProperty({ example: 'usd', description: 'Lower-case ISO 4217 code.' })
  @IsString()
  @Matches(/^[a-z]{3}$/, { message: 'currency must be a lower-case ISO 4217 code' })
  currency!: string;

  @ApiPropertyOptional({ enum: ChargeType, default: ChargeType.Direct })
  @IsOptional()
  @IsIn(Object.values(ChargeType))
  charge_type?: ChargeType;

  @ApiPropertyOptional({ example: 'pm_card_visa' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  payment_method?: string;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;

  @ApiPropertyOptional({ example: 'cus_NffrFeUfNV2Hib' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  customer?: string;

  @ApiPropertyOptional({ enum: ['automatic', 'automatic_async', 'manual'] })
  @IsOptional()
  @IsIn(['automatic', 'automatic_async', 'manual'])
  capture_method?: 'automatic' | 'automatic_async' | 'manual';

  @ApiPropertyOptional({ example: 'Order #1042' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ example: 'ORDER1042', description: 'At most 22 characters (Stripe).' })
  @IsOptional()
  @IsString()
  @MaxLength(22)
  statement_descriptor_suffix?: string;

  @ApiPropertyOptional({
    example: 'acct_1PqRsTuVwXyZ0123',
    description: 'Destination charges only: the settlement merchant.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^acct_/, { message: 'on_behalf_of must be a Stripe account id' })
  on_behalf_of?: string;

  @ApiPropertyOptional({
    example: { order_id: '1042' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({
    example: 'card',
    description: 'For routing rules only (`payment_method_type`); default `card`. Not sent to Stripe.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  payment_method_type?: string;

  @ApiPropertyOptional({
    type: () => CardFactsDto,
    description: 'For routing rules only (`card.brand`, `card.country`), when the platform knows them.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CardFactsDto)
  card?: CardFactsDto;
}

export class CreatePaymentDto {
  @ApiProperty({ example: 'tenant_acme' })
  @IsString()
  @MaxLength(128)
  tenant_id!: string;

  @ApiProperty({ type: PaymentDataDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PaymentDataDto)
  payment_data!: PaymentDataDto;
}

export class PaymentIntentSummaryDto {
  @ApiProperty({ example: 'pi_3PqRsTuVwXyZ0123', nullable: true, type: String })
  id!: string | null;

  @ApiProperty({ example: 'succeeded', nullable: true, type: String })
  status!: string | null;

  @ApiProperty({
    example: 'pi_3PqRsTuVwXyZ0123_secret_abc',
    nullable: true,
    type: String,
    description:
      "For the platform's frontend (Stripe.js). Only in the answer to the create request; never logged.",
  })
  client_secret!: string | null;
}

export class RoutingDecisionDto {
  @ApiProperty({ example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', nullable: true, type: String })
  rule_set_id!: string | null;

  @ApiProperty({ example: 3, nullable: true, type: Number })
  version!: number | null;

  @ApiProperty({
    example: 'small-usd-direct',
    nullable: true,
    type: String,
    description: 'The deciding rule; null for the default route or without an active rule set.',
  })
  rule!: string | null;
}

export class PaymentAttemptDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: { charge_type: 'direct' } })
  route!: Record<string, unknown>;

  @ApiProperty({ enum: ['succeeded', 'failed', 'not_eligible', 'unknown'], example: 'failed' })
  outcome!: PaymentAttempt['outcome'];

  @ApiProperty({ example: 'card_payments_inactive', nullable: true, type: String })
  failure_code!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  payment_intent!: string | null;
}

/** A PaymentRoute as the API shows it (payments, refunds and subscriptions alike). */
export class PaymentRouteDto {
  @ApiProperty({ example: '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ example: 'acct_1PqRsTuVwXyZ0123' })
  stripe_account_id!: string;

  @ApiProperty({ enum: PaymentRouteType, example: PaymentRouteType.Payment })
  type!: PaymentRouteType;

  @ApiProperty({ enum: PaymentRouteStatus, example: PaymentRouteStatus.Pending })
  status!: PaymentRouteStatus;

  @ApiProperty({ example: 2000 })
  amount!: number;

  @ApiProperty({ example: 88, description: 'The platform fee in minor units.' })
  fee!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ enum: ChargeType, nullable: true, example: ChargeType.Direct })
  charge_type!: ChargeType | null;

  @ApiProperty({ type: PaymentIntentSummaryDto })
  payment_intent!: PaymentIntentSummaryDto;

  @ApiPropertyOptional({
    example: null,
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'Refunds: the payment refunded.',
  })
  parent_id!: string | null;

  @ApiPropertyOptional({
    example: 're_3PqRsTuVwXyZ0123',
    nullable: true,
    type: String,
    description: 'Refund or subscription id.',
  })
  stripe_object_id!: string | null;

  @ApiPropertyOptional({ example: null, nullable: true, type: String })
  failure_code!: string | null;

  @ApiPropertyOptional({ example: null, nullable: true, type: String })
  failure_message!: string | null;

  @ApiPropertyOptional({ example: {}, type: 'object', additionalProperties: true })
  stripe_details!: Record<string, unknown>;

  @ApiProperty({
    type: RoutingDecisionDto,
    description:
      'The rule set version and rule that decided the route (null fields without an active rule set).',
  })
  routing!: RoutingDecisionDto;

  @ApiProperty({
    type: [PaymentAttemptDto],
    description: 'Every routing attempt in order: alternatives tried when a route could not serve.',
  })
  attempts!: PaymentAttemptDto[];

  @ApiPropertyOptional({ example: null, nullable: true, type: String, description: 'Split payments.' })
  transfer_group!: string | null;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  created_at!: string;

  static from(route: PaymentRouteEntity, clientSecret: string | null = null): PaymentRouteDto {
    return {
      id: route.id,
      tenant_id: route.tenant_id,
      stripe_account_id: route.stripe_account_id,
      type: route.type,
      status: route.status,
      amount: route.amount,
      fee: route.fee,
      currency: route.currency.trim(),
      charge_type: route.charge_type ?? null,
      payment_intent: {
        id: route.stripe_payment_intent_id ?? null,
        status: route.type === PaymentRouteType.Payment ? (route.stripe_status ?? null) : null,
        client_secret: clientSecret,
      },
      parent_id: route.parent_id ?? null,
      stripe_object_id: route.stripe_object_id ?? null,
      failure_code: route.failure_code ?? null,
      failure_message: route.failure_message ?? null,
      stripe_details: route.stripe_details ?? {},
      routing: {
        rule_set_id: route.routing_rule_set_id ?? null,
        version: route.routing_version ?? null,
        rule: route.routing_rule ?? null,
      },
      attempts: (route.attempts ?? []).map((a) => ({
        route: a.route,
        outcome: a.outcome,
        failure_code: a.failure_code,
        payment_intent: a.payment_intent,
      })),
      transfer_group: route.transfer_group ?? null,
      created_at: route.created_at.toISOString(),
    };
  }
}

export class PaymentRouteListDto extends PageDto(PaymentRouteDto) {}

export class ListPaymentsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform callers: any tenant; others: their own.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({ enum: PaymentRouteStatus })
  @IsOptional()
  @IsIn(Object.values(PaymentRouteStatus))
  status?: PaymentRouteStatus;

  @ApiPropertyOptional({ enum: PaymentRouteType })
  @IsOptional()
  @IsIn(Object.values(PaymentRouteType))
  type?: PaymentRouteType;

  @ApiPropertyOptional({ example: EXAMPLE_DATES.yearStart })
  @IsOptional()
  @IsISO8601()
  created_gte?: string;

  @ApiPropertyOptional({ example: EXAMPLE_DATES.nextYearStart })
  @IsOptional()
  @IsISO8601()
  created_lt?: string;
}

export class CreateRefundDto {
  @ApiPropertyOptional({ example: 500, description: 'Minor units; default: everything not yet refunded.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  amount?: number;

  @ApiPropertyOptional({ enum: ['duplicate', 'fraudulent', 'requested_by_customer'] })
  @IsOptional()
  @IsIn(['duplicate', 'fraudulent', 'requested_by_customer'])
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';

  @ApiPropertyOptional({ example: true, description: 'Default: true for direct charges.' })
  @IsOptional()
  @IsBoolean()
  refund_application_fee?: boolean;

  @ApiPropertyOptional({ example: true, description: 'Default: true for destination charges.' })
  @IsOptional()
  @IsBoolean()
  reverse_transfer?: boolean;

  @ApiPropertyOptional({
    example: { ticket: 'T-1' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string>;
}

export class SubscriptionItemDto {
  @ApiProperty({ example: 'price_1PqRsTuVwXyZ0123' })
  @IsString()
  @Matches(/^price_/, { message: 'price must be a Stripe price id' })
  price!: string;

  @ApiPropertyOptional({ example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  quantity?: number;
}

export class CreateSubscriptionDto {
  @ApiProperty({ example: 'tenant_acme' })
  @IsString()
  @MaxLength(128)
  tenant_id!: string;

  @ApiProperty({
    example: 'cus_NffrFeUfNV2Hib',
    description: "A customer on the tenant's connected account.",
  })
  @IsString()
  @Matches(/^cus_/, { message: 'customer must be a Stripe customer id' })
  customer!: string;

  @ApiPropertyOptional({ example: 'price_1PqRsTuVwXyZ0123', description: 'One price, or `items`.' })
  @IsOptional()
  @IsString()
  @Matches(/^price_/, { message: 'price must be a Stripe price id' })
  price?: string;

  @ApiPropertyOptional({ type: [SubscriptionItemDto] })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => SubscriptionItemDto)
  items?: SubscriptionItemDto[];

  @ApiPropertyOptional({ example: 10.5, description: '0..100 with at most two decimals (Stripe).' })
  @IsOptional()
  @Type(() => Number)
  @Min(0)
  @Max(100)
  application_fee_percent?: number;

  @ApiPropertyOptional({ example: 'pm_card_visa' })
  @IsOptional()
  @IsString()
  default_payment_method?: string;

  @ApiPropertyOptional({ example: { plan: 'pro' }, type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string>;
}

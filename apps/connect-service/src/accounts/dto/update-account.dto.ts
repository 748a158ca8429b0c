import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class BusinessProfileDto {
  @ApiPropertyOptional({ example: 'Acme Bikes' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;

  @ApiPropertyOptional({ example: 'https://acme.example' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true })
  url?: string;

  @ApiPropertyOptional({ example: '5941', description: 'Merchant category code' })
  @IsOptional()
  @Matches(/^\d{4}$/)
  mcc?: string;

  @ApiPropertyOptional({ example: 'support@acme.example' })
  @IsOptional()
  @IsEmail()
  support_email?: string;

  @ApiPropertyOptional({ example: '+15555550100' })
  @IsOptional()
  @Matches(/^\+?[0-9 ()-]{5,20}$/)
  support_phone?: string;

  @ApiPropertyOptional({ example: 'Bicycles and repairs' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  product_description?: string;
}

/** `settings.payouts.schedule` (https://docs.stripe.com/connect/manage-payout-schedule). */
export class PayoutScheduleDto {
  @ApiPropertyOptional({ enum: ['daily', 'weekly', 'monthly', 'manual'], example: 'weekly' })
  @IsOptional()
  @IsIn(['daily', 'weekly', 'monthly', 'manual'])
  interval?: 'daily' | 'weekly' | 'monthly' | 'manual';

  @ApiPropertyOptional({ example: 7, minimum: 2, maximum: 365 })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(365)
  delay_days?: number;

  @ApiPropertyOptional({
    enum: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  })
  @IsOptional()
  @IsIn(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'])
  weekly_anchor?: 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

  @ApiPropertyOptional({ example: 15, minimum: 1, maximum: 31 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31)
  monthly_anchor?: number;
}

/**
 * Body of `PUT /connect/accounts/:tenantId`: only what a platform may change. Every field is optional; an absent
 * field is left as it is. For OAuth (Standard) accounts Stripe lets the platform change `metadata` only.
 */
export class UpdateAccountDto {
  @ApiPropertyOptional({ type: BusinessProfileDto, description: 'Express and Custom accounts only.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => BusinessProfileDto)
  business_profile?: BusinessProfileDto;

  @ApiPropertyOptional({
    example: { crm_id: '42' },
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      "Merged into the Stripe account's metadata (an empty string removes a key). `tenant_id` is reserved.",
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({
    example: ['card_payments', 'transfers'],
    type: [String],
    description: 'Capabilities to request (Express and Custom accounts only).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(30)
  @Matches(/^[a-z0-9_]{1,64}$/, { each: true })
  requested_capabilities?: string[];

  @ApiPropertyOptional({ type: PayoutScheduleDto, description: 'Express and Custom accounts only.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PayoutScheduleDto)
  payout_schedule?: PayoutScheduleDto;

  @ApiPropertyOptional({
    example: { basis_points: 250, fixed: { usd: 30 }, minimum: { usd: 50 }, maximum: { usd: 5000 } },
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description:
      "This tenant's platform fee (local only): integer basis points 0..10000 plus per-currency fixed/minimum/maximum " +
      'amounts in minor units, keyed by lower-case ISO codes; null restores the platform default.',
  })
  @IsOptional()
  fee_schedule?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    enum: ['none', 'reverse_transfer'],
    nullable: true,
    example: 'reverse_transfer',
    description:
      'How a dispute the platform pays for is recovered from this tenant (local only): `reverse_transfer` reverses the ' +
      'disputed amount from its transfer and gives it back if the dispute is won; null restores DISPUTE_RECOVERY_DEFAULT.',
  })
  @IsOptional()
  @IsIn(['none', 'reverse_transfer'])
  dispute_recovery?: 'none' | 'reverse_transfer' | null;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { PageDto, PageQueryDto } from '@app/common';
import { ConnectAccountStatus } from '@app/database';
import { ConnectAccountDto } from './connect-account.dto';

export class ResponsibilitiesDto {
  @ApiProperty({
    enum: ['application', 'application_custom', 'application_express', 'stripe'],
    example: 'stripe',
  })
  @IsIn(['application', 'application_custom', 'application_express', 'stripe'])
  fees_collector!: 'application' | 'application_custom' | 'application_express' | 'stripe';

  @ApiProperty({ enum: ['application', 'stripe'], example: 'stripe' })
  @IsIn(['application', 'stripe'])
  losses_collector!: 'application' | 'stripe';
}

/** Body of `POST /connect/accounts/:tenantId` (Accounts v2, https://docs.stripe.com/api/v2/core/accounts/create). */
export class CreateV2AccountDto {
  @ApiProperty({ example: 'US', description: 'ISO 3166-1 alpha-2 (identity.country).' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an upper-case ISO 3166-1 alpha-2 code' })
  country!: string;

  @ApiProperty({ example: 'owner@acme.test', description: 'contact_email' })
  @IsEmail()
  email!: string;

  @ApiPropertyOptional({ example: 'Acme Bikes' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  display_name?: string;

  @ApiPropertyOptional({
    enum: ['company', 'government_entity', 'individual', 'non_profit'],
    example: 'company',
  })
  @IsOptional()
  @IsIn(['company', 'government_entity', 'individual', 'non_profit'])
  entity_type?: 'company' | 'government_entity' | 'individual' | 'non_profit';

  @ApiPropertyOptional({
    example: ['merchant', 'recipient'],
    type: [String],
    enum: ['merchant', 'recipient', 'customer'],
    description: 'Default: ACCOUNTS_V2_DEFAULT_CONFIGURATIONS.',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(['merchant', 'recipient', 'customer'], { each: true })
  configurations?: Array<'merchant' | 'recipient' | 'customer'>;

  @ApiPropertyOptional({
    example: ['card_payments', 'stripe_balance.stripe_transfers'],
    type: [String],
    description:
      "Stripe's v2 configuration capability names (merchant `*_payments`, recipient `stripe_balance.stripe_transfers`, " +
      '`cards`, `bank_accounts.*`, customer `automatic_indirect_tax`). Default: `card_payments` for merchant, ' +
      '`stripe_balance.stripe_transfers` for recipient.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(60)
  @IsString({ each: true })
  capabilities?: string[];

  @ApiPropertyOptional({
    enum: ['full', 'express', 'none'],
    description: 'Default: ACCOUNTS_V2_DEFAULT_DASHBOARD.',
  })
  @IsOptional()
  @IsIn(['full', 'express', 'none'])
  dashboard?: 'full' | 'express' | 'none';

  @ApiPropertyOptional({
    type: ResponsibilitiesDto,
    description: 'Default: ACCOUNTS_V2_DEFAULT_FEES_COLLECTOR / ACCOUNTS_V2_DEFAULT_LOSSES_COLLECTOR.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ResponsibilitiesDto)
  responsibilities?: ResponsibilitiesDto;
}

/** `GET /connect/accounts` (platform): the operators' "who is about to be restricted" view. */
export class ListAccountsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ConnectAccountStatus, example: ConnectAccountStatus.Restricted })
  @IsOptional()
  @IsIn(Object.values(ConnectAccountStatus))
  status?: ConnectAccountStatus;

  @ApiPropertyOptional({ enum: ['currently_due', 'past_due'], example: 'currently_due' })
  @IsOptional()
  @IsIn(['currently_due', 'past_due'])
  due?: 'currently_due' | 'past_due';

  @ApiPropertyOptional({ example: '2026-12-31T00:00:00.000Z', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  deadline_before?: string;
}

export class AccountListDto extends PageDto(ConnectAccountDto) {}

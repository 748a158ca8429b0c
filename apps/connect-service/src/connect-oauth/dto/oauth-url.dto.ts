import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, IsUrl, Length, Matches, ValidateNested } from 'class-validator';

/** Prefill for Stripe's OAuth form (https://docs.stripe.com/connect/oauth-reference#get-authorize-request). */
export class StripeUserPrefillDto {
  @ApiPropertyOptional({ example: 'owner@acme.test' })
  @IsOptional()
  @IsEmail()
  email?: string;

  @ApiPropertyOptional({ example: 'https://acme.example' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true })
  url?: string;

  @ApiPropertyOptional({ example: 'US' })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/)
  country?: string;

  @ApiPropertyOptional({ example: 'Acme Bikes' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  business_name?: string;

  @ApiPropertyOptional({ example: 'company', enum: ['individual', 'company', 'non_profit', 'sole_prop'] })
  @IsOptional()
  @IsIn(['individual', 'company', 'non_profit', 'sole_prop'])
  business_type?: string;

  @ApiPropertyOptional({ example: 'Ada' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  first_name?: string;

  @ApiPropertyOptional({ example: 'Lovelace' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  last_name?: string;

  @ApiPropertyOptional({ example: '+15555550100' })
  @IsOptional()
  @Matches(/^\+?[0-9 ()-]{5,20}$/)
  phone_number?: string;

  @ApiPropertyOptional({ example: 'usd' })
  @IsOptional()
  @Matches(/^[a-z]{3}$/)
  currency?: string;
}

export class CreateOAuthUrlDto {
  @ApiProperty({ example: 'tenant_acme' })
  @IsString()
  @Length(1, 128)
  tenant_id!: string;

  @ApiPropertyOptional({
    example: 'http://localhost:3000/connect/oauth/callback',
    description:
      'Must be OAUTH_REDIRECT_URI or one of OAUTH_REDIRECT_URI_ALLOWLIST (and registered with Stripe).',
  })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  redirect_uri?: string;

  @ApiPropertyOptional({ enum: ['read_write', 'read_only'], default: 'read_write' })
  @IsOptional()
  @IsIn(['read_write', 'read_only'])
  scope?: 'read_write' | 'read_only';

  @ApiPropertyOptional({ type: StripeUserPrefillDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => StripeUserPrefillDto)
  stripe_user?: StripeUserPrefillDto;
}

export class OAuthUrlDto {
  @ApiProperty({
    example:
      'https://connect.stripe.com/oauth/authorize?response_type=code&client_id=ca_123&scope=read_write&state=...',
  })
  url!: string;

  @ApiProperty({
    example: 'q3J0c2V4YW1wbGVzdGF0ZXZhbHVlX19fX19fX19fX18',
    description: 'Single use, bound to the tenant and the caller; only its hash is stored.',
  })
  state!: string;

  @ApiProperty({ example: '2026-11-26T04:25:27.000Z', format: 'date-time' })
  expires_at!: string;
}

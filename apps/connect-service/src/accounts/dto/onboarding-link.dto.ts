import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, IsUrl, Length, Matches } from 'class-validator';

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** Body of `POST /connect/accounts/:tenantId/onboarding` (Account Links, https://docs.stripe.com/connect/express-accounts). */
export class CreateOnboardingLinkDto {
  @ApiPropertyOptional({
    enum: ['express', 'custom'],
    default: 'express',
    description: 'Used only when the account is created.',
  })
  @IsOptional()
  @IsIn(['express', 'custom'])
  type?: 'express' | 'custom';

  @ApiPropertyOptional({
    example: 'US',
    description: 'ISO 3166-1 alpha-2; used only when the account is created.',
  })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an upper-case ISO 3166-1 alpha-2 code' })
  country?: string;

  @ApiPropertyOptional({ example: 'owner@acme.test' })
  @IsOptional()
  @IsEmail()
  email?: string;

  @ApiProperty({
    example: 'https://platform.example/onboarding/done',
    description: 'Where Stripe sends the user when onboarding ends.',
  })
  @IsString()
  @Length(1, 2048)
  @IsUrl(URL_OPTIONS)
  return_url!: string;

  @ApiProperty({
    example: 'https://platform.example/onboarding/retry',
    description: 'Where Stripe sends the user when the link expired or was used: ask for a fresh link there.',
  })
  @IsString()
  @Length(1, 2048)
  @IsUrl(URL_OPTIONS)
  refresh_url!: string;
}

export class OnboardingLinkDto {
  @ApiProperty({ example: 'https://connect.stripe.com/setup/e/acct_1PqR/AbCdEf' })
  url!: string;

  @ApiProperty({
    example: '2026-11-26T04:20:27.000Z',
    format: 'date-time',
    description: 'Links are short-lived and single use.',
  })
  expires_at!: string;

  @ApiProperty({ example: 'acct_1PqRsTuVwXyZ0123' })
  stripe_account_id!: string;
}

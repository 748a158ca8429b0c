import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';

/** Body of `POST /connect/accounts/:tenantId/sessions`. */
export class CreateAccountSessionDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: { features: { type: 'object', additionalProperties: { type: 'boolean' } } },
    },
    example: { payments: { features: { refund_management: true } }, notification_banner: {} },
    description:
      "Component name → `{features?}`, names exactly as Stripe's (`account_onboarding`, `account_management`, " +
      '`notification_banner`, `payments`, `payouts`, `balances`, `disputes_list`, `documents`, ...).',
  })
  @IsObject()
  components!: Record<string, { features?: Record<string, boolean> }>;
}

export class SessionRefusalDto {
  @ApiProperty({ example: 'payments' })
  component!: string;

  @ApiProperty({ example: 'refund_management', required: false })
  feature?: string;

  @ApiProperty({ example: 'needs the operator role' })
  reason!: string;
}

export class AccountSessionDto {
  @ApiProperty({
    example: 'accs_secret__Qx...',
    description:
      "For Connect.js's `fetchClientSecret`: single use, short-lived, never stored or logged by the service.",
  })
  client_secret!: string;

  @ApiProperty({ example: '2026-11-26T04:50:27.000Z', format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ example: 'acct_1PqRsTuVwXyZ0123' })
  stripe_account_id!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: {
      payments: { enabled: true, features: { refund_management: false, dispute_management: false } },
    },
    description: 'The components granted, with the features as Stripe will apply them.',
  })
  components!: Record<string, { enabled: boolean; features: Record<string, boolean> }>;

  @ApiProperty({ type: [SessionRefusalDto], description: 'One note per refused component or feature.' })
  refused!: SessionRefusalDto[];
}

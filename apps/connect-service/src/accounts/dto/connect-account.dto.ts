import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AccountPayoutSchedule,
  ConnectAccountEntity,
  ConnectAccountStatus,
  FeeSchedule,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { activeCapabilities } from '../account-status.util';
import { AccountConfigurationDto, RequirementEntryDto } from './requirement-entry.dto';

export class AccountRequirementsDto {
  @ApiProperty({ example: '2026-12-31T00:00:00.000Z', nullable: true, type: String })
  current_deadline!: string | null;

  @ApiProperty({ example: ['external_account'], type: [String] })
  currently_due!: string[];

  @ApiProperty({ example: ['external_account', 'individual.id_number'], type: [String] })
  eventually_due!: string[];

  @ApiProperty({
    type: [RequirementEntryDto],
    description: 'Every requirement in one shape for v1 and v2 accounts, most urgent first.',
  })
  entries!: RequirementEntryDto[];
}

/** The seed's ConnectAccount plus live status fields. Tokens and other secrets never appear here. */
export class ConnectAccountDto {
  @ApiProperty({ example: '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ example: 'acct_1PqRsTuVwXyZ0123' })
  stripe_account_id!: string;

  @ApiProperty({ enum: ConnectAccountStatus, example: ConnectAccountStatus.Active })
  status!: ConnectAccountStatus;

  @ApiProperty({
    example: ['card_payments', 'transfers'],
    type: [String],
    description: 'The capabilities that are active (sorted); every state is in `capability_states`.',
  })
  capabilities!: string[];

  @ApiProperty({
    example: { card_payments: 'active', transfers: 'pending' },
    type: 'object',
    additionalProperties: { type: 'string', enum: ['active', 'inactive', 'pending', 'unrequested'] },
    description:
      "Each requested capability's state as Stripe reports it (https://docs.stripe.com/api/accounts/object#account_object-capabilities).",
  })
  capability_states!: Record<string, string>;

  @ApiProperty({ type: AccountRequirementsDto })
  requirements!: AccountRequirementsDto;

  @ApiProperty({
    enum: ['v1', 'v2'],
    example: 'v2',
    description: 'The Stripe Accounts API the account lives on.',
  })
  api_version!: 'v1' | 'v2';

  @ApiProperty({
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: {
        applied: { type: 'boolean' },
        capabilities: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    example: { merchant: { applied: true, capabilities: { card_payments: 'active' } } },
    description: 'v2 configurations with their capabilities; empty for v1 accounts.',
  })
  configurations!: Record<string, AccountConfigurationDto>;

  @ApiProperty({ enum: ['full', 'express', 'none'], nullable: true, example: 'express' })
  dashboard!: string | null;

  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { fees_collector: 'stripe', losses_collector: 'stripe', requirements_collector: 'stripe' },
  })
  responsibilities!: Record<string, string> | null;

  @ApiProperty({ example: true })
  charges_enabled!: boolean;

  @ApiProperty({ example: true })
  payouts_enabled!: boolean;

  @ApiProperty({
    example: [],
    type: [String],
    description: 'Requirements past their deadline (the account is or will be restricted).',
  })
  past_due!: string[];

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: "Stripe's requirements.disabled_reason",
  })
  disabled_reason!: string | null;

  @ApiProperty({ enum: OnboardingMethod, example: OnboardingMethod.OAuth })
  onboarding_method!: OnboardingMethod;

  @ApiProperty({ enum: StripeAccountType, example: StripeAccountType.Standard })
  account_type!: StripeAccountType;

  @ApiPropertyOptional({ example: null, nullable: true, type: String, format: 'date-time' })
  disconnected_at!: string | null;

  @ApiProperty({
    example: { basis_points: 250, fixed: { usd: 30 } },
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: "This tenant's platform fee schedule; null means the platform default.",
  })
  fee_schedule!: FeeSchedule | null;

  @ApiProperty({
    example: { interval: 'weekly', delay_days: 2, weekly_anchor: 'friday' },
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description:
      'The payout schedule exactly as Stripe holds it (`interval`, `delay_days`, `weekly_anchor`, `monthly_anchor`).',
  })
  payout_schedule!: AccountPayoutSchedule | null;

  @ApiProperty({
    enum: ['none', 'reverse_transfer'],
    nullable: true,
    example: null,
    description:
      "This tenant's dispute recovery; null means the platform default (DISPUTE_RECOVERY_DEFAULT).",
  })
  dispute_recovery!: string | null;

  @ApiProperty({ example: { crm_id: '42' }, type: 'object', additionalProperties: { type: 'string' } })
  metadata!: Record<string, string>;

  @ApiProperty({
    example: false,
    description: 'True when Stripe could not be reached and this is the last known state.',
  })
  stale!: boolean;

  @ApiPropertyOptional({
    example: '2026-11-26T04:15:27.000Z',
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When this state was last read from Stripe.',
  })
  synced_at!: string | null;

  @ApiProperty({ example: '2026-11-26T04:15:27.000Z', format: 'date-time' })
  created_at!: string;

  @ApiProperty({ example: '2026-11-26T04:15:27.000Z', format: 'date-time' })
  updated_at!: string;

  static from(a: ConnectAccountEntity, stale = false): ConnectAccountDto {
    const r = a.requirements ?? {};
    return {
      id: a.id,
      tenant_id: a.tenant_id,
      stripe_account_id: a.stripe_account_id,
      status: a.status,
      capabilities: activeCapabilities(a.capabilities),
      capability_states: a.capabilities ?? {},
      requirements: {
        current_deadline: r.current_deadline ?? null,
        currently_due: r.currently_due ?? [],
        eventually_due: r.eventually_due ?? [],
        entries: a.requirement_entries ?? [],
      },
      api_version: a.api_version ?? 'v1',
      configurations: a.configurations ?? {},
      dashboard: a.dashboard ?? null,
      responsibilities: a.responsibilities ?? null,
      charges_enabled: a.charges_enabled,
      payouts_enabled: a.payouts_enabled,
      past_due: r.past_due ?? [],
      disabled_reason: r.disabled_reason ?? null,
      onboarding_method: a.onboarding_method,
      account_type: a.account_type,
      disconnected_at: a.disconnected_at ? a.disconnected_at.toISOString() : null,
      fee_schedule: a.fee_schedule ?? null,
      payout_schedule: a.payout_schedule ?? null,
      dispute_recovery: a.dispute_recovery ?? null,
      metadata: a.metadata ?? {},
      stale,
      synced_at: a.synced_at ? a.synced_at.toISOString() : null,
      created_at: a.created_at.toISOString(),
      updated_at: a.updated_at.toISOString(),
    };
  }
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';

export enum ConnectAccountStatus {
  Pending = 'pending',
  Active = 'active',
  Restricted = 'restricted',
  Disabled = 'disabled',
}

export enum OnboardingMethod {
  OAuth = 'oauth',
  AccountLink = 'account_link',
}

export enum StripeAccountType {
  Standard = 'standard',
  Express = 'express',
  Custom = 'custom',
}

/** What Stripe still needs (https://docs.stripe.com/api/accounts/object#account_object-requirements), kept so callers can warn before a restriction. */
export interface AccountRequirements {
  currently_due: string[];
  eventually_due: string[];
  past_due: string[];
  pending_verification: string[];
  /** ISO-8601, or null when Stripe set no deadline. */
  current_deadline: string | null;
  disabled_reason: string | null;
}

/** One requirement in the shape both API versions fill (v2 entries; v1 arrays mapped onto it). */
export interface RequirementEntry {
  /** Stripe's requirement name (v2 `description`, v1 array entry). */
  field: string;
  due: 'currently_due' | 'eventually_due' | 'past_due';
  /** ISO-8601, or null when Stripe set none. */
  deadline: string | null;
  awaiting_action_from: 'stripe' | 'user';
  /** Capabilities it restricts, as `<configuration>.<capability>` (v2) or the v1 capability name. */
  restricts: string[];
  errors: Array<{ code: string; description: string }>;
}

/** A v2 configuration as the service keeps it: applied or not, and each capability's status. */
export interface AccountConfiguration {
  applied: boolean;
  capabilities: Record<string, string>;
}

/** A fee schedule in integer minor units: basis points plus a fixed amount per currency, with bounds. */
export interface FeeSchedule {
  basis_points: number;
  fixed?: Record<string, number>;
  minimum?: Record<string, number>;
  maximum?: Record<string, number>;
}

/** The seed's ConnectAccount: one Stripe account per tenant. */
/** Stripe's `settings.payouts.schedule`: https://docs.stripe.com/api/accounts/object#account_object-settings-payouts-schedule */
export interface AccountPayoutSchedule {
  interval: string;
  delay_days?: number;
  weekly_anchor?: string;
  monthly_anchor?: number;
}

@Entity({ name: 'connect_accounts' })
// The operators' list: accounts with something due, nearest deadline first.
@Index('ix_connect_accounts_next_deadline', ['next_deadline', 'tenant_id'], {
  where: '"next_deadline" IS NOT NULL',
})
export class ConnectAccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_connect_accounts_tenant_id', { unique: true })
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 128 })
  tenant_id!: string;

  /** Unique: a Stripe account connected to one tenant is never silently moved to another. */
  @Index('uq_connect_accounts_stripe_account_id', { unique: true })
  @Column({ name: 'stripe_account_id', type: 'varchar', length: 255 })
  stripe_account_id!: string;

  @Column({
    type: 'enum',
    enum: ConnectAccountStatus,
    enumName: 'connect_account_status',
    default: ConnectAccountStatus.Pending,
  })
  status!: ConnectAccountStatus;

  @Column({ name: 'onboarding_method', type: 'enum', enum: OnboardingMethod, enumName: 'onboarding_method' })
  onboarding_method!: OnboardingMethod;

  @Column({ name: 'account_type', type: 'enum', enum: StripeAccountType, enumName: 'stripe_account_type' })
  account_type!: StripeAccountType;

  /** The account's country (ISO 3166-1 alpha-2) as Stripe reports it; routing rules may condition on it. */
  @Column({ type: 'char', length: 2, nullable: true })
  country!: string | null;

  @Column({ name: 'charges_enabled', type: 'boolean', default: false })
  charges_enabled!: boolean;

  @Column({ name: 'payouts_enabled', type: 'boolean', default: false })
  payouts_enabled!: boolean;

  @Column({ name: 'details_submitted', type: 'boolean', default: false })
  details_submitted!: boolean;

  /** Capability name → `active | inactive | pending`. */
  @Column({ type: 'jsonb', default: {} })
  capabilities!: Record<string, string>;

  @Column({ type: 'jsonb', default: {} })
  requirements!: AccountRequirements;

  @Column({ type: 'boolean', default: false })
  livemode!: boolean;

  /** OAuth tokens: ciphertext only (AES-256-GCM with a key id), erased on disconnect. */
  @Column({ name: 'access_token_enc', type: 'text', nullable: true })
  access_token_enc!: string | null;

  @Column({ name: 'refresh_token_enc', type: 'text', nullable: true })
  refresh_token_enc!: string | null;

  @Column({ name: 'oauth_scope', type: 'varchar', length: 32, nullable: true })
  oauth_scope!: string | null;

  /** This tenant's platform fee override; null means the platform default from configuration. */
  @Column({ name: 'fee_schedule', type: 'jsonb', nullable: true })
  fee_schedule!: FeeSchedule | null;

  @Column({ type: 'jsonb', default: {} })
  metadata!: Record<string, string>;

  /** `settings.payouts.schedule` as Stripe last answered it (https://docs.stripe.com/connect/manage-payout-schedule). */
  @Column({ name: 'payout_schedule', type: 'jsonb', nullable: true })
  payout_schedule!: AccountPayoutSchedule | null;

  /** How a platform-liable dispute is recovered from this tenant: none | reverse_transfer; null: the platform default. */
  @Column({ name: 'dispute_recovery', type: 'varchar', length: 32, nullable: true })
  dispute_recovery!: 'none' | 'reverse_transfer' | null;

  /**
   * `created` of the newest Stripe event applied to this account (unix seconds) and its id as a tie-break:
   * an older event never rolls state back (Stripe does not guarantee order: https://docs.stripe.com/webhooks#event-ordering).
   */
  @Column({
    name: 'last_event_created',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v) => v, from: (v) => (v === null ? null : Number(v)) },
  })
  last_event_created!: number | null;

  @Column({ name: 'last_event_id', type: 'varchar', length: 255, nullable: true })
  last_event_id!: string | null;

  /** When the state above was last read from Stripe. */
  @Column({ name: 'synced_at', type: 'timestamptz', nullable: true })
  synced_at!: Date | null;

  @Column({ name: 'disconnected_at', type: 'timestamptz', nullable: true })
  disconnected_at!: Date | null;

  /**
   * When the current connection was made (OAuth grant or account creation): an
   * `account.application.deauthorized` created before it belongs to an earlier connection and is ignored.
   */
  @Column({ name: 'connected_at', type: 'timestamptz', nullable: true })
  connected_at!: Date | null;

  /** `v1` (accounts API v1, OAuth included) or `v2` (created through /v2/core/accounts). */
  @Column({ name: 'api_version', type: 'varchar', length: 2, default: 'v1' })
  api_version!: 'v1' | 'v2';

  /** v2 configurations (`merchant`, `recipient`, `customer`); empty for v1 accounts. */
  @Column({ type: 'jsonb', default: {} })
  configurations!: Record<string, AccountConfiguration>;

  @Column({ type: 'varchar', length: 16, nullable: true })
  dashboard!: string | null;

  /** `{fees_collector, losses_collector, requirements_collector}` (v2 names; v1 controller mapped onto them). */
  @Column({ type: 'jsonb', nullable: true })
  responsibilities!: Record<string, string> | null;

  @Column({ name: 'requirement_entries', type: 'jsonb', default: [] })
  requirement_entries!: RequirementEntry[];

  /** The nearest deadline of the entries (the operators' list sorts on it). */
  @Column({ name: 'next_deadline', type: 'timestamptz', nullable: true })
  next_deadline!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  created_at!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updated_at!: Date;

  @VersionColumn({ default: 1 })
  version!: number;
}

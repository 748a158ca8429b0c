import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { ServiceException, ErrorCode } from '@app/common';
import { accountsConfig } from '@app/config';
import {
  AccountPayoutSchedule,
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import {
  StripeAccount,
  StripeAccountUpdateParams,
  StripeErrorDetails,
  StripeGateway,
} from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { AccountCacheService } from './account-cache.service';
import { ConnectAccountsRepository } from './connect-accounts.repository';
import {
  accountStateChanged,
  AccountState,
  activeCapabilities,
  mapAccountStatus,
} from './account-status.util';
import { ConnectAccountDto } from './dto/connect-account.dto';
import { CreateOnboardingLinkDto, OnboardingLinkDto } from './dto/onboarding-link.dto';
import { UpdateAccountDto } from './dto/update-account.dto';
import { feeScheduleProblems, FieldProblem, toFeeSchedule } from '../fees/fee-schedule.util';
import { payoutScheduleOf, payoutScheduleProblems } from '../payouts/payout-schedule.util';
import { v1AccountExtras } from './requirements-entries';
import type { AccountsV2Hooks } from './accounts-v2.hooks';

/** The Stripe event being applied, for the per-account freshness check (Stripe delivers out of order). */
export interface AppliedEvent {
  id: string;
  created: number;
}

const METADATA_KEY_MAX = 40;
const METADATA_VALUE_MAX = 500;

@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);
  /** Accounts v2 registers itself here: v2 rows take its paths (state, links, update, close). */
  private v2?: AccountsV2Hooks;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly cache: AccountCacheService,
    private readonly rows: ConnectAccountsRepository,
    @Inject(accountsConfig.KEY) private readonly cfg: ConfigType<typeof accountsConfig>,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(ConnectAccountEntity);
  }

  useV2(v2: AccountsV2Hooks): void {
    this.v2 = v2;
  }

  mapState(
    account: StripeAccount,
    lostAccess = false,
  ): AccountState & ReturnType<typeof v1AccountExtras> & { payout_schedule: AccountPayoutSchedule | null } {
    return {
      ...mapAccountStatus(account, { requiredCapabilities: this.cfg.requiredCapabilities, lostAccess }),
      ...v1AccountExtras(account),
      payout_schedule: payoutScheduleOf(account),
    };
  }

  async invalidateCache(tenantId: string): Promise<void> {
    await this.cache.invalidate(tenantId);
  }

  async getByTenant(tenantId: string): Promise<ConnectAccountEntity> {
    const account = await this.repo.findOneBy({ tenant_id: tenantId });
    if (!account)
      throw new ServiceException(ErrorCode.NotFound, `No connected account for tenant ${tenantId}`);
    return account;
  }

  /**
   * The hot read, as the JSON it answers: cache first (no database query on a hit, sent as stored), else the row,
   * refreshed from Stripe when it is older than the TTL. Stripe failing never fails the read: the last known state is
   * served with `stale: true`.
   */
  async getViewJson(tenantId: string): Promise<string> {
    const cached = await this.cachedViewJson(tenantId);
    if (cached !== undefined) return cached;

    const row = await this.getByTenant(tenantId);
    const ttl = this.cache.ttlMilliseconds;
    const age = row.synced_at ? Date.now() - row.synced_at.getTime() : Number.POSITIVE_INFINITY;
    // Stripe refuses to read a deauthorized account: the local row is final.
    if (row.disconnected_at || age < ttl) {
      return this.cache.set(tenantId, ConnectAccountDto.from(row), row.disconnected_at ? ttl : ttl - age);
    }

    if (row.api_version === 'v2' && this.v2) return this.v2.refreshView(row);
    let account: StripeAccount;
    try {
      account = await this.gateway.retrieveAccount(row.stripe_account_id);
    } catch (err) {
      if (
        err instanceof ServiceException &&
        (err.code === ErrorCode.StripeUnavailable || err.code === ErrorCode.StripeRequestFailed)
      ) {
        this.logger.warn(`serving the last known state of ${tenantId}'s account: ${err.code} ${err.message}`);
        return JSON.stringify(ConnectAccountDto.from(row, true));
      }
      throw err;
    }
    const fresh = await this.dataSource.transaction((m) => this.applyStripeAccount(m, tenantId, account));
    return this.cache.set(tenantId, ConnectAccountDto.from(fresh ?? row));
  }

  /**
   * Writes a freshly retrieved Stripe account onto the tenant's row (locked), and emits `connect.account.updated`
   * when the status or requirements changed, plus `connect.account.connected` when Account Link onboarding
   * finished. With `event`, an event older than the last applied one is refused (returns null: stale).
   * The caller owns the transaction; the cache entry is dropped once it commits.
   */
  /** The warm-cache answer alone (undefined on a miss): what the direct cached read serves outside Nest. */
  cachedViewJson(tenantId: string): Promise<string | undefined> {
    return this.cache.getJson(tenantId);
  }

  async applyStripeAccount(
    manager: EntityManager,
    tenantId: string,
    account: StripeAccount,
    event?: AppliedEvent,
    isStale?: (last: { created: number | null; id: string | null }, e: AppliedEvent) => boolean,
  ): Promise<ConnectAccountEntity | null> {
    const row = await this.rows.lockForUpdate(manager, tenantId, account.id);
    if (!row || row.disconnected_at) return null;
    if (row.api_version === 'v2' && this.v2)
      return this.v2.refresh(manager, tenantId, account.id, event, isStale);
    if (event && isStale?.({ created: row.last_event_created, id: row.last_event_id }, event)) return null;

    const before = { ...row };
    const state = this.mapState(account);
    const changes: Partial<ConnectAccountEntity> = { ...state, synced_at: new Date() };
    if (event) {
      changes.last_event_created = event.created;
      changes.last_event_id = event.id;
    }
    // One UPDATE of the locked row (save() would SELECT it again to diff), bumping version and updated_at.
    const written = await this.rows.update(manager, row, changes);
    const saved = Object.assign(row, changes, written);

    if (accountStateChanged(before, state)) {
      await this.events.emit(manager, {
        type: 'connect.account.updated',
        tenant_id: tenantId,
        data: {
          stripe_account_id: row.stripe_account_id,
          status: state.status,
          previous_status: before.status,
          charges_enabled: state.charges_enabled,
          payouts_enabled: state.payouts_enabled,
          capabilities: activeCapabilities(state.capabilities),
          capability_states: state.capabilities,
          requirements: { ...state.requirements, entries: saved.requirement_entries },
          api_version: saved.api_version,
          configurations: saved.configurations,
          dashboard: saved.dashboard,
          responsibilities: saved.responsibilities,
          ...(event ? { stripe_event_id: event.id } : {}),
        },
      });
    }
    if (
      row.onboarding_method === OnboardingMethod.AccountLink &&
      !before.details_submitted &&
      state.details_submitted
    ) {
      await this.events.emit(manager, {
        type: 'connect.account.connected',
        tenant_id: tenantId,
        data: {
          stripe_account_id: row.stripe_account_id,
          onboarding_method: row.onboarding_method,
          status: state.status,
        },
      });
    }
    await this.v2?.afterV1Apply(manager, before, saved);
    await this.cache.invalidate(tenantId, manager);
    return saved;
  }

  /**
   * Account Links onboarding (https://docs.stripe.com/connect/hosted-onboarding): creates the Stripe account once
   * per tenant (the idempotency key is derived from the tenant, so a double click cannot create two), then a
   * fresh single-use link on every call.
   */
  async createOnboardingLink(tenantId: string, dto: CreateOnboardingLinkDto): Promise<OnboardingLinkDto> {
    let row = await this.repo.findOneBy({ tenant_id: tenantId });
    if (row && !row.disconnected_at && row.onboarding_method === OnboardingMethod.OAuth) {
      throw new ServiceException(
        ErrorCode.Conflict,
        'This tenant is connected through OAuth (a Standard account it manages on Stripe): Account Links do not apply',
      );
    }
    if (row && !row.disconnected_at && row.api_version === 'v2' && this.v2)
      return this.v2.onboardingLink(row, dto);
    if (!row || row.disconnected_at) row = await this.createStripeAccount(tenantId, dto, row);

    const link = await this.gateway.createAccountLink({
      account: row.stripe_account_id,
      refresh_url: dto.refresh_url,
      return_url: dto.return_url,
      type: 'account_onboarding',
    });
    return {
      url: link.url,
      expires_at: new Date(link.expires_at * 1000).toISOString(),
      stripe_account_id: row.stripe_account_id,
    };
  }

  private async createStripeAccount(
    tenantId: string,
    dto: CreateOnboardingLinkDto,
    previous: ConnectAccountEntity | null,
  ): Promise<ConnectAccountEntity> {
    const type = dto.type ?? 'express';
    // A disconnected tenant onboards again with a new account: the key changes with each disconnection.
    const generation = previous?.disconnected_at ? previous.disconnected_at.getTime() : 0;
    const account = await this.gateway.createAccount(
      {
        type,
        ...(dto.country ? { country: dto.country } : {}),
        ...(dto.email ? { email: dto.email } : {}),
        metadata: { tenant_id: tenantId },
        capabilities: Object.fromEntries(this.cfg.requiredCapabilities.map((c) => [c, { requested: true }])),
      },
      { idempotencyKey: `connect-onboarding-account:${tenantId}:${generation}` },
    );
    const state = this.mapState(account);
    const values = {
      tenant_id: tenantId,
      stripe_account_id: account.id,
      onboarding_method: OnboardingMethod.AccountLink,
      account_type: type === 'custom' ? StripeAccountType.Custom : StripeAccountType.Express,
      ...state,
      access_token_enc: null,
      refresh_token_enc: null,
      oauth_scope: null,
      metadata: { ...(account.metadata ?? {}) } as Record<string, string>,
      last_event_created: null,
      last_event_id: null,
      synced_at: new Date(),
      disconnected_at: null,
      connected_at: new Date(),
    };
    await this.dataSource.transaction(async (m) => {
      if (previous) {
        await m
          .getRepository(ConnectAccountEntity)
          .update({ id: previous.id, tenant_id: previous.tenant_id }, values);
      } else {
        // A concurrent double click got the same account (same idempotency key): the first insert wins.
        await m.createQueryBuilder().insert().into(ConnectAccountEntity).values(values).orIgnore().execute();
      }
    });
    await this.cache.invalidate(tenantId);
    const row = await this.getByTenant(tenantId);
    if (row.stripe_account_id !== account.id) {
      throw new ServiceException(
        ErrorCode.Conflict,
        'The tenant got another Stripe account concurrently; retry',
      );
    }
    return row;
  }

  /**
   * Stripe first, then locally. For OAuth (Standard) accounts the platform may change only `metadata` (Stripe:
   * "for other accounts ... some parameters can no longer be changed", https://docs.stripe.com/api/accounts/update),
   * so the rest is refused before calling Stripe; a refusal by Stripe itself becomes a ValidationFailed/Conflict.
   */
  async update(tenantId: string, dto: UpdateAccountDto): Promise<ConnectAccountDto> {
    const row = await this.getByTenant(tenantId);
    if (row.disconnected_at) throw new ServiceException(ErrorCode.Conflict, 'The account is disconnected');

    const problems: FieldProblem[] = [];
    if (dto.fee_schedule !== undefined && dto.fee_schedule !== null)
      problems.push(...feeScheduleProblems(dto.fee_schedule));
    if (dto.metadata !== undefined) problems.push(...metadataProblems(dto.metadata));
    // With an interval the whole combination is known and checked as Stripe would; without, Stripe merges it.
    if (dto.payout_schedule?.interval) problems.push(...payoutScheduleProblems(dto.payout_schedule));
    if (row.account_type === StripeAccountType.Standard) {
      for (const field of ['business_profile', 'requested_capabilities', 'payout_schedule'] as const) {
        if (dto[field] !== undefined) {
          problems.push({
            field,
            errors: ['cannot be changed by the platform on a Standard (OAuth) account'],
          });
        }
      }
    }
    if (problems.length)
      throw new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', { fields: problems });

    const params: StripeAccountUpdateParams = {};
    if (dto.business_profile) params.business_profile = { ...dto.business_profile };
    if (dto.metadata) params.metadata = { ...dto.metadata };
    if (dto.requested_capabilities?.length) {
      params.capabilities = Object.fromEntries(
        dto.requested_capabilities.map((c) => [c, { requested: true }]),
      );
    }
    if (dto.payout_schedule) params.settings = { payouts: { schedule: { ...dto.payout_schedule } } };

    let account: StripeAccount | undefined;
    if (row.api_version === 'v2' && this.v2) await this.v2.update(row, dto);
    else if (Object.keys(params).length) {
      try {
        account = await this.gateway.updateAccount(row.stripe_account_id, params);
      } catch (err) {
        throw mapUpdateRefusal(err);
      }
    }

    const changed = Object.keys(dto).filter((k) => dto[k as keyof UpdateAccountDto] !== undefined);
    const saved = await this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(ConnectAccountEntity);
      const locked = await repo.findOne({
        where: { id: row.id, tenant_id: row.tenant_id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!locked || locked.disconnected_at)
        throw new ServiceException(ErrorCode.Conflict, 'The account is disconnected');
      if (account) {
        Object.assign(locked, this.mapState(account), {
          synced_at: new Date(),
          metadata: { ...(account.metadata ?? {}) },
        });
      }
      if (dto.dispute_recovery !== undefined) locked.dispute_recovery = dto.dispute_recovery;
      if (dto.fee_schedule !== undefined) {
        locked.fee_schedule = dto.fee_schedule === null ? null : toFeeSchedule(dto.fee_schedule);
      }
      const result = await repo.save(locked);
      await this.events.emit(m, {
        type: 'connect.account.updated',
        tenant_id: tenantId,
        data: {
          stripe_account_id: result.stripe_account_id,
          status: result.status,
          changed,
          fee_schedule: result.fee_schedule,
          requirements: result.requirements,
        },
      });
      return result;
    });
    await this.cache.invalidate(tenantId);
    return ConnectAccountDto.from(saved);
  }

  /**
   * Disconnect. OAuth accounts are deauthorized (https://docs.stripe.com/connect/oauth-reference#post-deauthorize);
   * accounts the platform created (Express/Custom) are rejected with reason `other`
   * (https://docs.stripe.com/api/accounts/reject: allowed for accounts where the platform is liable for losses),
   * which disables them for good. The row stays (status disabled, tokens erased); a second call answers the same.
   */
  async disconnect(tenantId: string): Promise<ConnectAccountDto> {
    const row = await this.getByTenant(tenantId);
    if (row.disconnected_at) return ConnectAccountDto.from(row);

    if (row.onboarding_method === OnboardingMethod.OAuth) {
      try {
        await this.gateway.oauthDeauthorize(row.stripe_account_id);
      } catch (err) {
        // Already disconnected on Stripe's side (by the user, or a concurrent DELETE): the goal is reached.
        if (!isNotConnected(err)) throw err;
      }
    } else if (row.api_version === 'v2' && this.v2) {
      await this.v2.close(row);
    } else {
      await this.gateway.rejectAccount(row.stripe_account_id, 'other', {
        idempotencyKey: `connect-disconnect:${tenantId}:${row.stripe_account_id}`,
      });
    }
    await this.dataSource.transaction((m) =>
      this.markDisconnected(m, tenantId, row.stripe_account_id, 'platform'),
    );
    await this.cache.invalidate(tenantId);
    return ConnectAccountDto.from(await this.getByTenant(tenantId));
  }

  /** One conditional UPDATE, so two disconnections (DELETE and the deauthorized webhook) emit one event. */
  async markDisconnected(
    manager: EntityManager,
    tenantId: string,
    stripeAccountId: string,
    by: 'platform' | 'stripe',
  ): Promise<boolean> {
    const result = await manager
      .getRepository(ConnectAccountEntity)
      .createQueryBuilder()
      .update()
      .set({
        status: ConnectAccountStatus.Disabled,
        charges_enabled: false,
        payouts_enabled: false,
        access_token_enc: null,
        refresh_token_enc: null,
        disconnected_at: () => 'now()',
      })
      .where({ tenant_id: tenantId, stripe_account_id: stripeAccountId, disconnected_at: IsNull() })
      .execute();
    if (!result.affected) return false;
    await this.events.emit(manager, {
      type: 'connect.account.disconnected',
      tenant_id: tenantId,
      data: { stripe_account_id: stripeAccountId, disconnected_by: by },
    });
    await this.cache.invalidate(tenantId, manager);
    return true;
  }
}

function metadataProblems(metadata: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    // Stripe's limits: https://docs.stripe.com/api/metadata
    if (key.length === 0 || key.length > METADATA_KEY_MAX || key.includes('[')) {
      problems.push({
        field: `metadata.${key}`,
        errors: [`keys must be 1..${METADATA_KEY_MAX} characters without "["`],
      });
    } else if (key === 'tenant_id') {
      problems.push({
        field: 'metadata.tenant_id',
        errors: ['is reserved: it binds the Stripe account to the tenant'],
      });
    }
    if (typeof value !== 'string' || value.length > METADATA_VALUE_MAX) {
      problems.push({
        field: `metadata.${key}`,
        errors: [`must be a string of at most ${METADATA_VALUE_MAX} characters`],
      });
    }
  }
  if (Object.keys(metadata).length > 50) problems.push({ field: 'metadata', errors: ['at most 50 keys'] });
  return problems;
}

function stripeDetailsOf(err: ServiceException): StripeErrorDetails | undefined {
  return (err.details as { stripe?: StripeErrorDetails } | undefined)?.stripe;
}

/** Stripe's refusal of an update is the caller's problem (a field it may not change), not a gateway failure. */
function mapUpdateRefusal(err: unknown): unknown {
  if (!(err instanceof ServiceException) || err.code !== ErrorCode.StripeRequestFailed) return err;
  const stripe = stripeDetailsOf(err);
  if (stripe?.status === 400 || stripe?.status === 404) {
    return new ServiceException(ErrorCode.ValidationFailed, `Stripe refused the update: ${err.message}`, {
      fields: [{ field: stripe.param ?? 'body', errors: ['refused by Stripe for this account'] }],
      stripe,
    });
  }
  if (stripe?.status === 403) {
    return new ServiceException(ErrorCode.Conflict, 'Stripe does not let the platform change this account', {
      stripe,
    });
  }
  return err;
}

function isNotConnected(err: unknown): boolean {
  if (!(err instanceof ServiceException) || err.code !== ErrorCode.OAuthFailed) return false;
  const stripe = stripeDetailsOf(err);
  return (
    stripe?.type === 'invalid_client' ||
    stripe?.code === 'invalid_client' ||
    /not connected/i.test(err.message)
  );
}

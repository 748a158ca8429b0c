import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ErrorCode, ServiceException, decodeKeysetCursor, encodeKeysetCursor } from '@app/common';
import { accountsV2Config } from '@app/config';
import { ConnectAccountEntity, OnboardingMethod, StripeAccountType } from '@app/database';
import {
  StripeErrorDetails,
  StripeGateway,
  StripeV2Account,
  StripeV2AccountUpdateParams,
} from '@app/stripe-gateway';
import { In } from 'typeorm';
import { EventsService } from '../events/events.service';
import { AccountCacheService } from './account-cache.service';
import { configurationOf, configurationParams, v2AccountViolations } from './account-v2-rules';
import { AccountsService, AppliedEvent } from './accounts.service';
import type { AccountsV2Hooks } from './accounts-v2.hooks';
import { ConnectAccountsRepository } from './connect-accounts.repository';
import { AccountListDto, CreateV2AccountDto, ListAccountsQueryDto } from './dto/account-v2.dto';
import { ConnectAccountDto } from './dto/connect-account.dto';
import { CreateOnboardingLinkDto, OnboardingLinkDto } from './dto/onboarding-link.dto';
import { UpdateAccountDto } from './dto/update-account.dto';
import { configurationsFromV2, dueEntries, entriesFromV2, nextDeadline } from './requirements-entries';
import { RequirementNoticesService } from './requirements-notices.service';
import { v2AccountState } from './v2-account-state';

const DASHBOARD_TYPE: Record<string, StripeAccountType> = {
  full: StripeAccountType.Standard,
  express: StripeAccountType.Express,
  none: StripeAccountType.Custom,
};

/**
 * Accounts v2 (https://docs.stripe.com/connect/accounts-v2): create (one Stripe account per tenant, however many
 * concurrent calls), state from `/v2/core/accounts`, v2 account links, update and close. AccountsService hands
 * its v2 rows here, so every existing path (GET, PUT, DELETE, onboarding, webhooks) serves both versions.
 */
@Injectable()
export class AccountsV2Service implements OnModuleInit, AccountsV2Hooks {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly cache: AccountCacheService,
    private readonly accounts: AccountsService,
    private readonly repo: ConnectAccountsRepository,
    private readonly notices: RequirementNoticesService,
    @Inject(accountsV2Config.KEY) private readonly cfg: ConfigType<typeof accountsV2Config>,
  ) {}

  onModuleInit(): void {
    this.accounts.useV2(this);
  }

  /** Creates the tenant's v2 account, or answers the existing one (`created: false`). */
  async create(
    tenantId: string,
    dto: CreateV2AccountDto,
  ): Promise<{ created: boolean; account: ConnectAccountDto }> {
    const shape = {
      configurations: dto.configurations ?? this.cfg.defaultConfigurations,
      capabilities: dto.capabilities ?? [],
      dashboard: dto.dashboard ?? this.cfg.defaultDashboard,
      responsibilities: dto.responsibilities ?? {
        fees_collector: this.cfg.defaultFeesCollector,
        losses_collector: this.cfg.defaultLossesCollector,
      },
    };
    const violations = v2AccountViolations(shape);
    if (violations.length) {
      throw new ServiceException(
        ErrorCode.AccountConfigurationInvalid,
        `Invalid v2 account: ${violations.map((v) => v.message).join('; ')}`,
        { rule: violations[0].rule, violations },
      );
    }
    // The tenant's lock serialises concurrent creates: the second finds the first's row and answers it.
    const result = await this.dataSource.transaction(async (m) => {
      await this.repo.lockTenant(m, tenantId);
      const existing = await m.getRepository(ConnectAccountEntity).findOneBy({ tenant_id: tenantId });
      if (existing && !existing.disconnected_at) return { created: false, row: existing };
      const generation = existing?.disconnected_at ? existing.disconnected_at.getTime() : 0;
      let account: StripeV2Account;
      try {
        account = await this.gateway.v2.createAccount(
          {
            contact_email: dto.email,
            ...(dto.display_name ? { display_name: dto.display_name } : {}),
            dashboard: shape.dashboard,
            identity: { country: dto.country, ...(dto.entity_type ? { entity_type: dto.entity_type } : {}) },
            configuration: configurationParams(shape),
            defaults: { responsibilities: shape.responsibilities },
            metadata: { tenant_id: tenantId },
          },
          { idempotencyKey: `connect-v2-account:${tenantId}:${generation}` },
        );
      } catch (err) {
        throw refusal(err, 'Stripe refused the account');
      }
      const values = {
        tenant_id: tenantId,
        stripe_account_id: account.id,
        onboarding_method: OnboardingMethod.AccountLink,
        account_type: DASHBOARD_TYPE[shape.dashboard] ?? StripeAccountType.Express,
        ...this.stateOf(account),
        access_token_enc: null,
        refresh_token_enc: null,
        oauth_scope: null,
        metadata: { ...((account.metadata ?? {}) as Record<string, string>) },
        last_event_created: null,
        last_event_id: null,
        disconnected_at: null,
        connected_at: new Date(),
      };
      const repo = m.getRepository(ConnectAccountEntity);
      if (existing) await repo.update({ id: existing.id, tenant_id: existing.tenant_id }, values);
      else await repo.insert(values);
      const row = await repo.findOneByOrFail({ tenant_id: tenantId });
      await this.notices.onApplied(m, { capabilities: {}, requirement_entries: [] }, row);
      return { created: true, row };
    });
    await this.cache.invalidate(tenantId);
    return { created: result.created, account: ConnectAccountDto.from(result.row) };
  }

  /** Everything the row keeps of a v2 account. */
  stateOf(account: StripeV2Account) {
    const entries = entriesFromV2(account);
    return {
      ...v2AccountState(account, entries),
      api_version: 'v2' as const,
      configurations: configurationsFromV2(account),
      dashboard: account.dashboard ?? null,
      responsibilities: (account.defaults?.responsibilities as Record<string, string> | undefined) ?? null,
      requirement_entries: entries,
      next_deadline: nextDeadline(entries),
      synced_at: new Date(),
    };
  }

  /**
   * Reads the v2 account from Stripe and applies it to the tenant's row (locked), with the same staleness rule and
   * events as v1: `connect.account.updated` on a change, `connect.account.connected` when onboarding finishes,
   * and the requirement notices. Null when the row is gone, disconnected or the event is stale.
   */
  async refresh(
    manager: EntityManager,
    tenantId: string,
    stripeAccountId: string,
    event?: AppliedEvent,
    isStale?: (last: { created: number | null; id: string | null }, e: AppliedEvent) => boolean,
    known?: StripeV2Account,
  ): Promise<ConnectAccountEntity | null> {
    const account = known ?? (await this.gateway.v2.retrieveAccount(stripeAccountId));
    const repo = manager.getRepository(ConnectAccountEntity);
    const row = await repo.findOne({
      where: { tenant_id: tenantId, stripe_account_id: stripeAccountId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!row || row.disconnected_at) return null;
    if (event && isStale?.({ created: row.last_event_created, id: row.last_event_id }, event)) return null;
    const before = { ...row };
    const state = this.stateOf(account);
    // Onboarded once stays onboarded: a later requirement is an update (account_update), as v1's details_submitted.
    const changes: Partial<ConnectAccountEntity> = {
      ...state,
      details_submitted: before.details_submitted || state.details_submitted,
    };
    if (event) {
      changes.last_event_created = event.created;
      changes.last_event_id = event.id;
    }
    Object.assign(row, changes);
    const saved = await repo.save(row);
    const changed =
      before.status !== saved.status ||
      JSON.stringify(before.capabilities) !== JSON.stringify(saved.capabilities) ||
      JSON.stringify(before.requirement_entries) !== JSON.stringify(saved.requirement_entries);
    if (changed) {
      await this.events.emit(manager, {
        type: 'connect.account.updated',
        tenant_id: tenantId,
        data: {
          ...ConnectAccountDto.from(saved),
          previous_status: before.status,
          ...(event ? { stripe_event_id: event.id } : {}),
        },
      });
    }
    if (!before.details_submitted && saved.details_submitted) {
      await this.events.emit(manager, {
        type: 'connect.account.connected',
        tenant_id: tenantId,
        data: {
          stripe_account_id: saved.stripe_account_id,
          onboarding_method: saved.onboarding_method,
          status: saved.status,
        },
      });
    }
    await this.notices.onApplied(manager, before, saved);
    await this.cache.invalidate(tenantId, manager);
    return saved;
  }

  /** GET's refresh of a v2 row; Stripe failing answers the last known state with `stale: true`, as for v1. */
  async refreshView(row: ConnectAccountEntity): Promise<string> {
    let account: StripeV2Account;
    try {
      account = await this.gateway.v2.retrieveAccount(row.stripe_account_id);
    } catch (err) {
      if (
        err instanceof ServiceException &&
        (err.code === ErrorCode.StripeUnavailable || err.code === ErrorCode.StripeRequestFailed)
      ) {
        return JSON.stringify(ConnectAccountDto.from(row, true));
      }
      throw err;
    }
    const fresh = await this.dataSource.transaction((m) =>
      this.refresh(m, row.tenant_id, row.stripe_account_id, undefined, undefined, account),
    );
    return this.cache.set(row.tenant_id, ConnectAccountDto.from(fresh ?? row));
  }

  /** The requirement notices of a v1 account's change (AccountsService applied it in `manager`). */
  async afterV1Apply(
    manager: EntityManager,
    before: ConnectAccountEntity,
    after: ConnectAccountEntity,
  ): Promise<void> {
    await this.notices.onApplied(manager, before, after);
  }

  /** v2 account links (https://docs.stripe.com/api/v2/core/account-links/create): onboarding first, then updates. */
  async onboardingLink(row: ConnectAccountEntity, dto: CreateOnboardingLinkDto): Promise<OnboardingLinkDto> {
    const type = row.details_submitted ? 'account_update' : 'account_onboarding';
    const urls = { refresh_url: dto.refresh_url, return_url: dto.return_url };
    const link = await this.gateway.v2.createAccountLink({
      account: row.stripe_account_id,
      use_case:
        type === 'account_update' ? { type, account_update: urls } : { type, account_onboarding: urls },
    });
    return {
      url: link.url,
      expires_at: new Date(link.expires_at).toISOString(),
      stripe_account_id: row.stripe_account_id,
    };
  }

  /** PUT for a v2 account: profile, metadata and capabilities go to `/v2/core/accounts/{id}`; the fee schedule stays local. */
  async update(
    row: ConnectAccountEntity,
    dto: UpdateAccountDto,
  ): Promise<StripeV2AccountUpdateParams | null> {
    if (dto.payout_schedule !== undefined) {
      throw new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', {
        fields: [
          {
            field: 'payout_schedule',
            errors: ['v2 accounts keep their payout schedule in Balance Settings'],
          },
        ],
      });
    }
    const params: StripeV2AccountUpdateParams = {};
    if (dto.metadata) params.metadata = { ...dto.metadata };
    if (dto.business_profile) {
      const p = dto.business_profile;
      params.defaults = {
        profile: {
          ...(p.url ? { business_url: p.url } : {}),
          ...(p.name ? { doing_business_as: p.name } : {}),
          ...(p.product_description ? { product_description: p.product_description } : {}),
        },
      };
    }
    if (dto.requested_capabilities?.length) {
      const unknown = dto.requested_capabilities.filter((c) => {
        const config = configurationOf(c);
        return !config || !row.configurations?.[config];
      });
      if (unknown.length) {
        throw new ServiceException(
          ErrorCode.AccountConfigurationInvalid,
          "Capabilities outside the account's configurations",
          {
            rule: 'capability_needs_configuration',
            capabilities: unknown,
          },
        );
      }
      const configs = [...new Set(dto.requested_capabilities.map((c) => configurationOf(c)!))];
      params.configuration = configurationParams({
        configurations: configs,
        capabilities: dto.requested_capabilities,
      }) as StripeV2AccountUpdateParams['configuration'];
    }
    if (!Object.keys(params).length) return null;
    let account: StripeV2Account;
    try {
      account = await this.gateway.v2.updateAccount(row.stripe_account_id, params);
    } catch (err) {
      throw refusal(err, 'Stripe refused the update');
    }
    await this.dataSource.transaction((m) =>
      this.refresh(m, row.tenant_id, row.stripe_account_id, undefined, undefined, account),
    );
    return params;
  }

  /** Disconnect: `POST /v2/core/accounts/{id}/close` with every applied configuration (Stripe requires them all). */
  async close(row: ConnectAccountEntity): Promise<void> {
    const applied = Object.entries(row.configurations ?? {})
      .filter(([, c]) => c.applied)
      .map(([name]) => name as 'merchant' | 'recipient' | 'customer');
    await this.gateway.v2.closeAccount(row.stripe_account_id, applied, {
      idempotencyKey: `connect-disconnect:${row.tenant_id}:${row.stripe_account_id}`,
    });
  }

  /** `GET /connect/accounts`: nearest deadline first, accounts without one last. */
  async list(q: ListAccountsQueryDto): Promise<AccountListDto> {
    const after = q.cursor ? decodeKeysetCursor(q.cursor) : undefined;
    const page = await this.repo.pageByDeadline(this.dataSource, {
      status: q.status,
      due: q.due,
      deadlineBefore: q.deadline_before ? new Date(q.deadline_before) : undefined,
      limit: q.limit,
      after,
    });
    const hasMore = page.length > q.limit;
    const ids = page.slice(0, q.limit);
    const rows = ids.length
      ? await this.dataSource.getRepository(ConnectAccountEntity).findBy({ id: In(ids.map((r) => r.id)) })
      : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const last = ids[ids.length - 1];
    return {
      data: ids
        .map((r) => byId.get(r.id))
        .filter((r): r is ConnectAccountEntity => !!r)
        .map((r) => ConnectAccountDto.from(r)),
      has_more: hasMore,
      next_cursor: hasMore && last ? encodeKeysetCursor(last.keyset_at, last.id) : null,
    };
  }

  /** What is due on the account now, for the session policy and the docs' examples. */
  dueFields(row: ConnectAccountEntity): string[] {
    return dueEntries(row.requirement_entries).map((e) => e.field);
  }
}

/** Stripe's 400/404 on a v2 call is the caller's problem: a ValidationFailed naming Stripe's parameter. */
function refusal(err: unknown, message: string): unknown {
  if (!(err instanceof ServiceException) || err.code !== ErrorCode.StripeRequestFailed) return err;
  const stripe = (err.details as { stripe?: StripeErrorDetails } | undefined)?.stripe;
  if (stripe?.status === 400 || stripe?.status === 404 || stripe?.status === 409) {
    return new ServiceException(ErrorCode.ValidationFailed, `${message}: ${err.message}`, {
      fields: [{ field: stripe.param ?? 'body', errors: [err.message] }],
      stripe,
    });
  }
  return err;
}

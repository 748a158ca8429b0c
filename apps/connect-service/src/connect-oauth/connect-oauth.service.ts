import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import type { Caller } from '@app/auth';
import { SecretBox, ServiceException, ErrorCode, fieldError } from '@app/common';
import { oauthConfig } from '@app/config';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OAuthOutcome,
  OAuthStateEntity,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { StripeAccount, StripeGateway, StripeOAuthToken } from '@app/stripe-gateway';
import { AccountsService } from '../accounts/accounts.service';
import { AccountState } from '../accounts/account-status.util';
import { ConnectAccountDto } from '../accounts/dto/connect-account.dto';
import { EventsService } from '../events/events.service';
import { AuditLogService } from '../audit/audit-log.service';
import { OAuthCallbackOutcome } from './dto/oauth-callback-result.dto';
import { CreateOAuthUrlDto, OAuthUrlDto } from './dto/oauth-url.dto';
import { hashOAuthState, isAllowedRedirectUri, isWellFormedState, newOAuthState } from './oauth-state.util';
import { ConsumedState, OAuthStatesRepository } from './oauth-states.repository';

/** What the controller needs to answer a callback: JSON or a redirect carrying `tenant_id` and `outcome`. */
export interface OAuthCallbackResult {
  outcome: OAuthCallbackOutcome;
  tenantId: string | null;
  account?: ConnectAccountDto;
  error?: ServiceException;
}

export interface OAuthCallbackQuery {
  code?: string;
  state?: string;
  error?: string;
  error_description?: string;
  tenant_id?: string;
}

/** The SecretBox context of a token column: a ciphertext copied to another tenant's row does not open. */
export const accessTokenContext = (tenantId: string): string => `connect_accounts.access_token:${tenantId}`;
export const refreshTokenContext = (tenantId: string): string => `connect_accounts.refresh_token:${tenantId}`;

const PG_UNIQUE_VIOLATION = '23505';

/**
 * Connect OAuth for Standard accounts (https://docs.stripe.com/connect/oauth-reference), hardened
 * against replayed callbacks, CSRF and leaked states: the state is random, stored hashed, bound to tenant and caller,
 * expires, and is consumed by one atomic statement before the code is exchanged, so a replayed or concurrent
 * callback never reaches Stripe a second time (a reused code would revoke the first grant's tokens).
 */
@Injectable()
export class ConnectOAuthService {
  private readonly logger = new Logger(ConnectOAuthService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly states: OAuthStatesRepository,
    private readonly accounts: AccountsService,
    private readonly events: EventsService,
    private readonly secrets: SecretBox,
    @Inject(oauthConfig.KEY) private readonly cfg: ConfigType<typeof oauthConfig>,
    private readonly audit: AuditLogService,
  ) {}

  get successUrl(): string | undefined {
    return this.cfg.successUrl;
  }

  get failureUrl(): string | undefined {
    return this.cfg.failureUrl;
  }

  async createAuthorizeUrl(caller: Caller, dto: CreateOAuthUrlDto): Promise<OAuthUrlDto> {
    const redirectUri = dto.redirect_uri ?? this.cfg.redirectUri;
    if (!isAllowedRedirectUri(redirectUri, this.cfg.redirectUri, this.cfg.allowedRedirectUris)) {
      throw fieldError('redirect_uri', 'must be the configured OAuth redirect URI or in its allow-list');
    }
    const scope = dto.scope ?? 'read_write';
    const { state, hash } = newOAuthState();
    const expiresAt = new Date(Date.now() + this.cfg.stateTtlSeconds * 1000);
    const url = this.gateway.oauthAuthorizeUrl({
      state,
      scope,
      redirectUri,
      ...(dto.stripe_user ? { stripeUser: { ...dto.stripe_user } } : {}),
    });
    await this.dataSource.getRepository(OAuthStateEntity).insert({
      state_hash: hash,
      tenant_id: dto.tenant_id,
      caller_sub: caller.sub,
      redirect_uri: redirectUri,
      scope,
      expires_at: expiresAt,
    });
    return { url, state, expires_at: expiresAt.toISOString() };
  }

  /** Never throws: every outcome is a result, so the controller can redirect the browser either way. */
  async handleCallback(query: OAuthCallbackQuery): Promise<OAuthCallbackResult> {
    try {
      return await this.callback(query);
    } catch (err) {
      if (err instanceof ServiceException) return { outcome: 'failed', tenantId: null, error: err };
      throw err;
    }
  }

  private async callback(query: OAuthCallbackQuery): Promise<OAuthCallbackResult> {
    const consumed = isWellFormedState(query.state)
      ? await this.consumeState(query.state, query.tenant_id)
      : null;
    if (!consumed) {
      return {
        outcome: 'invalid_state',
        tenantId: null,
        error: new ServiceException(
          ErrorCode.OAuthFailed,
          'OAuth state is unknown, expired, already used or not for this tenant',
          {
            outcome: 'invalid_state',
          },
        ),
      };
    }
    const tenantId = consumed.tenant_id;
    const fail = async (
      outcome: OAuthCallbackOutcome,
      stored: OAuthOutcome,
      message: string,
      err?: ServiceException,
    ) => {
      await this.recordOutcome(consumed.id, stored, message.slice(0, 1000));
      const error =
        err && err.code !== ErrorCode.OAuthFailed
          ? err
          : new ServiceException(err?.code ?? ErrorCode.OAuthFailed, message, {
              outcome,
              tenant_id: tenantId,
              ...(err?.details ?? {}),
            });
      return { outcome, tenantId, error };
    };

    if (query.error !== undefined) {
      const description = query.error_description ? `: ${query.error_description}` : '';
      return fail('declined', OAuthOutcome.Declined, `Stripe OAuth declined: ${query.error}${description}`);
    }
    if (!query.code)
      return fail('failed', OAuthOutcome.Failed, 'The callback carries neither code nor error');

    let token: StripeOAuthToken;
    try {
      token = await this.gateway.oauthToken(query.code);
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      return fail('failed', OAuthOutcome.Failed, `The authorization code was refused: ${err.message}`, err);
    }
    const stripeAccountId = token.stripe_user_id;
    if (!stripeAccountId || !token.access_token) {
      return fail(
        'failed',
        OAuthOutcome.Failed,
        'Stripe answered the token exchange without an account or token',
      );
    }

    // The tokens are in hand and single use: a failing account read must not lose them. The row is stored
    // `pending` with no sync time, so the next GET refreshes it from Stripe.
    let state: AccountState | null = null;
    let accountType = StripeAccountType.Standard;
    try {
      const account: StripeAccount = await this.gateway.retrieveAccount(stripeAccountId);
      state = this.accounts.mapState(account);
      if (account.type === 'express') accountType = StripeAccountType.Express;
      if (account.type === 'custom') accountType = StripeAccountType.Custom;
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      this.logger.warn(`connected ${stripeAccountId} for ${tenantId} without its state: ${err.code}`);
    }

    try {
      await this.dataSource.transaction(async (m) => {
        const repo = m.getRepository(ConnectAccountEntity);
        const owner = await repo.findOneBy({ stripe_account_id: stripeAccountId });
        if (owner && owner.tenant_id !== tenantId) {
          throw new ServiceException(
            ErrorCode.Conflict,
            'This Stripe account is already connected to another tenant',
            {
              outcome: 'conflict',
              tenant_id: tenantId,
            },
          );
        }
        const current = await repo.findOne({
          where: { tenant_id: tenantId },
          lock: { mode: 'pessimistic_write' },
        });
        if (current && !current.disconnected_at && current.stripe_account_id !== stripeAccountId) {
          throw new ServiceException(
            ErrorCode.Conflict,
            'The tenant is already connected to another Stripe account: disconnect it first',
            { outcome: 'conflict', tenant_id: tenantId },
          );
        }
        const now = new Date();
        const values = {
          tenant_id: tenantId,
          stripe_account_id: stripeAccountId,
          onboarding_method: OnboardingMethod.OAuth,
          account_type: accountType,
          ...(state ?? { status: ConnectAccountStatus.Pending }),
          livemode: token.livemode === true,
          access_token_enc: this.secrets.seal(token.access_token as string, accessTokenContext(tenantId)),
          refresh_token_enc: token.refresh_token
            ? this.secrets.seal(token.refresh_token, refreshTokenContext(tenantId))
            : null,
          oauth_scope: token.scope ?? consumed.scope,
          synced_at: state ? now : null,
          disconnected_at: null,
          connected_at: now,
        };
        if (current) await repo.update({ id: current.id, tenant_id: current.tenant_id }, values);
        else await repo.insert(values);
        await m
          .getRepository(OAuthStateEntity)
          .update(
            { id: consumed.id },
            { outcome: OAuthOutcome.Connected, stripe_account_id: stripeAccountId },
          );
        await this.events.emit(m, {
          type: 'connect.account.connected',
          tenant_id: tenantId,
          data: {
            stripe_account_id: stripeAccountId,
            onboarding_method: OnboardingMethod.OAuth,
            scope: values.oauth_scope,
            status: values.status,
            connected_by: consumed.caller_sub,
          },
        });
        // The callback is public (the browser); the actor is whoever started the flow with this state.
        await this.audit.record(
          {
            action: 'account.connect',
            actor: { id: consumed.caller_sub, type: 'user' },
            tenantId,
            targetType: 'connect_account',
            targetId: stripeAccountId,
            details: { method: 'oauth', scope: values.oauth_scope },
          },
          m,
        );
      });
    } catch (err) {
      const conflict =
        err instanceof ServiceException
          ? err.code === ErrorCode.Conflict
          : err instanceof QueryFailedError &&
            (err.driverError as { code?: string }).code === PG_UNIQUE_VIOLATION;
      if (!conflict) throw err;
      // The grant is not deauthorized: that would also cut the other tenant's connection to the same account.
      const error =
        err instanceof ServiceException
          ? err
          : new ServiceException(
              ErrorCode.Conflict,
              'This Stripe account is already connected to another tenant',
              {
                outcome: 'conflict',
                tenant_id: tenantId,
              },
            );
      await this.recordOutcome(consumed.id, OAuthOutcome.Conflict, error.message);
      return { outcome: 'conflict', tenantId, error };
    }
    await this.accounts.invalidateCache(tenantId);
    return {
      outcome: 'connected',
      tenantId,
      account: ConnectAccountDto.from(await this.accounts.getByTenant(tenantId)),
    };
  }

  /**
   * The single-use gate: one statement marks the state used only if it is unused, unexpired and (when the
   * callback names one) for that tenant. Of two concurrent callbacks exactly one gets the row back; a refused
   * state is left untouched (an attacker's forged or foreign callback writes nothing).
   */
  private async consumeState(state: string, tenantId: string | undefined): Promise<ConsumedState | null> {
    return this.states.consume(hashOAuthState(state), tenantId ?? null);
  }

  private async recordOutcome(id: string, outcome: OAuthOutcome, error: string | null): Promise<void> {
    await this.dataSource.getRepository(OAuthStateEntity).update({ id }, { outcome, error });
  }
}

import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import { AccountSessionsService } from './account-sessions.service';
import { AccountsV2Service } from './accounts-v2.service';
import { AccountSessionDto, CreateAccountSessionDto } from './dto/account-session.dto';
import { AccountListDto, CreateV2AccountDto, ListAccountsQueryDto } from './dto/account-v2.dto';
import { ConnectAccountDto } from './dto/connect-account.dto';

@ApiTags('accounts')
@Controller('connect/accounts')
export class AccountsV2Controller {
  constructor(
    private readonly v2: AccountsV2Service,
    private readonly sessions: AccountSessionsService,
  ) {}

  @Get()
  @ApiAuth('platform', 'accounts:read')
  @ApiOperation({
    summary: 'Every connected account, nearest requirement deadline first (who is about to be restricted)',
    description:
      'Filters: `status`, `due` (an entry currently or past due), `deadline_before`. Accounts without a deadline come last.',
  })
  @ApiOkResponse({ type: AccountListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  list(@Query() query: ListAccountsQueryDto): Promise<AccountListDto> {
    return this.v2.list(query);
  }

  @Post(':tenantId')
  @Audit('account.connect', 'connect_account')
  @ApiAuth('admin', 'accounts:write')
  @ApiOperation({
    summary: "Creates the tenant's Stripe account with Accounts v2 (201), or answers the existing one (200)",
    description:
      'One Stripe account per tenant whatever happens: concurrent or repeated creates (with or without ' +
      '`Idempotency-Key`) answer the same account. Invalid combinations of configurations, dashboard, capabilities ' +
      'and responsibilities are refused before Stripe is called (`ACCOUNT_CONFIGURATION_INVALID`, `details.rule`). ' +
      'Omitted `configurations`, `dashboard`, `responsibilities` take the platform defaults (ACCOUNTS_V2_DEFAULT_*).',
  })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiBody({ type: CreateV2AccountDto })
  @ApiCreatedResponse({ type: ConnectAccountDto, description: 'Created' })
  @ApiOkResponse({ type: ConnectAccountDto, description: 'The tenant already has an account: that account' })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.AccountConfigurationInvalid,
    ErrorCode.StripeUnavailable,
    ErrorCode.StripeRequestFailed,
  )
  async create(
    @Param('tenantId') tenantId: string,
    @Body() body: CreateV2AccountDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConnectAccountDto> {
    const { created, account } = await this.v2.create(tenantId, body);
    void reply.status(created ? 201 : 200);
    return account;
  }

  @Post(':tenantId/sessions')
  @ApiAuth('viewer', 'accounts:read')
  @ApiOperation({
    summary: "An Account Session for embedded components, with what the caller's role allows",
    description:
      'Policy: viewers get read-only money components (payments without refund/dispute/capture, payouts without ' +
      'instant payouts or schedule edits); operators add refund, capture and dispute management; admins get ' +
      'account onboarding/management, instant payouts, payout schedule and bank account collection. ' +
      '`disable_stripe_user_authentication: true` and `external_account_collection: false` only where the ' +
      'platform collects requirements. Every refused component or feature has a note in `refused`. The ' +
      '`client_secret` is single use and short-lived; the service never stores, caches or logs it.',
  })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiBody({ type: CreateAccountSessionDto })
  @ApiCreatedResponse({ type: AccountSessionDto })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.Forbidden,
    ErrorCode.NotFound,
    ErrorCode.Conflict,
    ErrorCode.StripeUnavailable,
    ErrorCode.StripeRequestFailed,
  )
  session(
    @Param('tenantId') tenantId: string,
    @CurrentCaller() caller: Caller,
    @Body() body: CreateAccountSessionDto,
  ): Promise<AccountSessionDto> {
    return this.sessions.create(tenantId, caller, body);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuth } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { ConnectAccountDto } from './dto/connect-account.dto';
import { CreateOnboardingLinkDto, OnboardingLinkDto } from './dto/onboarding-link.dto';
import { UpdateAccountDto } from './dto/update-account.dto';
import { AccountsService } from './accounts.service';
import { Audit } from '../audit/audit.decorator';

@ApiTags('accounts')
@Controller('connect/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get(':tenantId')
  @ApiAuth('viewer', 'accounts:read')
  @ApiOperation({
    summary: "The tenant's connected Stripe account with its status and requirements",
    description:
      'Served from the cache for REDIS_TTL, refreshed from Stripe when older. When Stripe is unavailable the last ' +
      'known state is answered with `stale: true` instead of an error.',
  })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiOkResponse({ type: ConnectAccountDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(
    @Param('tenantId') tenantId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    // The cached answer is already the JSON of a ConnectAccountDto: sent as it is, not parsed and serialised again.
    void reply.type('application/json; charset=utf-8');
    return this.accounts.getViewJson(tenantId);
  }

  @Post(':tenantId/onboarding')
  @Audit('account.connect', 'connect_account')
  @ApiAuth('admin', 'accounts:write')
  @ApiOperation({
    summary:
      'Account Links onboarding: creates the Stripe account once, then answers a fresh onboarding link',
  })
  // A tenant with no account yet: the quick start's tenant_acme is already connected through OAuth.
  @ApiParam({ name: 'tenantId', example: 'tenant_bikes' })
  @ApiCreatedResponse({ type: OnboardingLinkDto })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.Conflict,
    ErrorCode.StripeUnavailable,
    ErrorCode.StripeRequestFailed,
  )
  onboarding(
    @Param('tenantId') tenantId: string,
    @Body() body: CreateOnboardingLinkDto,
  ): Promise<OnboardingLinkDto> {
    return this.accounts.createOnboardingLink(tenantId, body);
  }

  @Put(':tenantId')
  @Audit('account.update', 'connect_account')
  @ApiAuth('admin', 'accounts:write')
  @ApiOperation({
    summary:
      'Update the business profile, metadata, capabilities, payout schedule (Stripe first) or fee schedule',
    description:
      'Standard (OAuth) accounts: only `metadata` and `fee_schedule`; Stripe does not let a platform change the rest. ' +
      'Emits `connect.account.updated`.',
  })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiBody({
    type: UpdateAccountDto,
    examples: {
      standard: {
        summary: 'A Standard (OAuth) account: metadata and the fee schedule only',
        value: { metadata: { crm_id: '42' }, fee_schedule: { basis_points: 290, fixed: { usd: 30 } } },
      },
    },
  })
  @ApiOkResponse({ type: ConnectAccountDto })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.Conflict,
    ErrorCode.StripeUnavailable,
    ErrorCode.StripeRequestFailed,
  )
  update(@Param('tenantId') tenantId: string, @Body() body: UpdateAccountDto): Promise<ConnectAccountDto> {
    return this.accounts.update(tenantId, body);
  }

  @Delete(':tenantId')
  @Audit('account.disconnect', 'connect_account')
  @HttpCode(200)
  @ApiAuth('admin', 'accounts:write')
  @ApiOperation({
    summary: 'Disconnect: OAuth accounts are deauthorized, platform-created accounts rejected; idempotent',
    description:
      'The record stays with status `disabled`, tokens erased and `disconnected_at`; `connect.account.disconnected` ' +
      'is emitted once. Payments for the tenant are refused from then on.',
  })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiOkResponse({ type: ConnectAccountDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.StripeUnavailable, ErrorCode.StripeRequestFailed)
  disconnect(@Param('tenantId') tenantId: string): Promise<ConnectAccountDto> {
    return this.accounts.disconnect(tenantId);
  }
}

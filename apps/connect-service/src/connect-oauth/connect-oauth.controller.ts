import { Body, Controller, Get, Headers, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiFoundResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuth, Caller, CurrentCaller, Public } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { OAuthCallbackResultDto } from './dto/oauth-callback-result.dto';
import { CreateOAuthUrlDto, OAuthUrlDto } from './dto/oauth-url.dto';
import { ConnectOAuthService, OAuthCallbackQuery } from './connect-oauth.service';

const CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description', 'tenant_id'] as const;

/** Only single string values: `?state=a&state=b` arrives as an array and is treated as absent. */
function callbackQuery(raw: Record<string, unknown>): OAuthCallbackQuery {
  const out: OAuthCallbackQuery = {};
  for (const key of CALLBACK_PARAMS) {
    const value = raw[key];
    if (typeof value === 'string' && value.length <= 2048) out[key] = value;
  }
  return out;
}

@ApiTags('oauth')
@Controller('connect/oauth')
export class ConnectOAuthController {
  constructor(private readonly oauth: ConnectOAuthService) {}

  @Post('url')
  @ApiAuth('admin', 'accounts:write')
  @ApiOperation({
    summary: "Start Connect OAuth for a tenant: Stripe's authorize URL with a fresh single-use state",
  })
  @ApiCreatedResponse({ type: OAuthUrlDto })
  @ApiErrors(ErrorCode.OAuthFailed, ErrorCode.ValidationFailed)
  createUrl(@CurrentCaller() caller: Caller, @Body() body: CreateOAuthUrlDto): Promise<OAuthUrlDto> {
    return this.oauth.createAuthorizeUrl(caller, body);
  }

  @Get('callback')
  @Public()
  @ApiOperation({
    summary:
      'Where Stripe sends the browser back (code+state or error+state); public, protected by the state',
    description:
      'Redirects to OAUTH_SUCCESS_URL / OAUTH_FAILURE_URL with `tenant_id` and `outcome` (connected, declined, ' +
      'conflict, failed, invalid_state). With `Accept: application/json`, or when those URLs are not configured, ' +
      'answers JSON: 200 on success, the ServiceError otherwise (`details.outcome`).',
  })
  @ApiQuery({ name: 'state', required: true })
  @ApiQuery({ name: 'code', required: false })
  @ApiQuery({ name: 'error', required: false, example: 'access_denied' })
  @ApiQuery({ name: 'error_description', required: false })
  @ApiQuery({
    name: 'tenant_id',
    required: false,
    description: 'When given, the state must belong to this tenant.',
  })
  @ApiHeader({ name: 'Accept', required: false, example: 'application/json' })
  @ApiOkResponse({ type: OAuthCallbackResultDto })
  @ApiFoundResponse({ description: 'Redirect to OAUTH_SUCCESS_URL or OAUTH_FAILURE_URL' })
  @ApiErrors(ErrorCode.OAuthFailed, ErrorCode.Conflict, ErrorCode.StripeUnavailable)
  async callback(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const result = await this.oauth.handleCallback(callbackQuery(raw ?? {}));
    const target = result.outcome === 'connected' ? this.oauth.successUrl : this.oauth.failureUrl;
    const wantsJson = (accept ?? '').includes('application/json');
    if (wantsJson || !target) {
      if (result.error) throw result.error;
      const body: OAuthCallbackResultDto = {
        outcome: 'connected',
        tenant_id: result.tenantId as string,
        account: result.account as OAuthCallbackResultDto['account'],
      };
      await reply.status(200).send(body);
      return;
    }
    const url = new URL(target);
    if (result.tenantId) url.searchParams.set('tenant_id', result.tenantId);
    url.searchParams.set('outcome', result.outcome);
    await reply.status(302).header('location', url.toString()).header('cache-control', 'no-store').send();
  }
}

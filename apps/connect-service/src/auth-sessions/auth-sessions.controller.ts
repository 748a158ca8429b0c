import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { AuthSessionsService } from './auth-sessions.service';
import {
  CreateRevocationDto,
  ListRevocationsQueryDto,
  RevocationDto,
  RevocationListDto,
  REVOCATION_EXAMPLE_TIME,
} from './dto/revocation.dto';

@ApiTags('auth')
@Controller('connect/auth/revocations')
export class AuthSessionsController {
  constructor(private readonly sessions: AuthSessionsService) {}

  @Post()
  @ApiAuth('admin')
  @ApiOperation({
    summary: 'Revoke JWTs: one token, one login session, a subject or a whole tenant',
    description:
      'Body: one of `{jti}`, `{sid}`, `{sub, issued_before}`, `{tenant_id, issued_before}`. Every replica ' +
      'refuses the covered tokens with 401 within REVOCATION_SYNC_INTERVAL_MS (default 250 ms). A platform caller ' +
      'may revoke across tenants; an admin only for its own tenant. The entry expires by itself once no token it ' +
      'covers can still be valid (JWT_MAX_TTL_SECONDS). An identity provider’s back-channel logout maps onto `{sid}`.',
  })
  @ApiBody({
    type: CreateRevocationDto,
    examples: {
      subject: {
        summary: 'Every token of one subject issued until now',
        value: { sub: 'user_8841', issued_before: REVOCATION_EXAMPLE_TIME, reason: 'laptop reported stolen' },
      },
      session: {
        summary: 'One identity-provider login session (back-channel logout)',
        value: { sid: 'idp-session-5f2c' },
      },
      tenant: {
        summary: 'Every token of one tenant issued until now',
        value: { tenant_id: 'tenant_acme', issued_before: REVOCATION_EXAMPLE_TIME },
      },
    },
  })
  @ApiCreatedResponse({ type: RevocationDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.RateLimited)
  async create(@CurrentCaller() caller: Caller, @Body() body: CreateRevocationDto): Promise<RevocationDto> {
    return RevocationDto.from(await this.sessions.create(caller, body));
  }

  @Get()
  @ApiAuth('admin')
  @ApiOperation({ summary: 'Active revocations, newest first (an admin sees its own tenant’s)' })
  @ApiOkResponse({ type: RevocationListDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.RateLimited)
  async list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListRevocationsQueryDto,
  ): Promise<RevocationListDto> {
    const page = await this.sessions.list(caller, {
      tenantId: query.tenant_id,
      limit: query.limit,
      cursor: query.cursor,
    });
    return {
      data: page.rows.map((r) => RevocationDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }
}

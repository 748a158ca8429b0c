import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { ApiKeysService } from './api-keys.service';
import {
  ApiKeyCreatedDto,
  ApiKeyDto,
  ApiKeyListDto,
  CreateApiKeyDto,
  ListApiKeysQueryDto,
} from './dto/api-key.dto';

@ApiTags('api-keys')
@Controller('connect/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiAuth('platform')
  @ApiOperation({
    summary: 'Issue an API key (X-API-Key)',
    description:
      'The full key is in this response only; the service keeps a hash. Scopes are limited to the caller’s own.',
  })
  @ApiCreatedResponse({ type: ApiKeyCreatedDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.RateLimited)
  async create(@CurrentCaller() caller: Caller, @Body() body: CreateApiKeyDto): Promise<ApiKeyCreatedDto> {
    const { row, key } = await this.keys.create(caller, {
      name: body.name,
      role: body.role,
      scopes: body.scopes,
      tenantId: body.tenant_id ?? null,
      expiresAt: body.expires_at ?? null,
    });
    return { ...ApiKeyDto.from(row), key };
  }

  @Get()
  @ApiAuth('platform')
  @ApiOperation({ summary: 'API keys, newest first (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyListDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.RateLimited)
  async list(@CurrentCaller() caller: Caller, @Query() query: ListApiKeysQueryDto): Promise<ApiKeyListDto> {
    const page = await this.keys.list(caller, {
      tenantId: query.tenant_id,
      limit: query.limit,
      cursor: query.cursor,
    });
    return {
      data: page.rows.map((r) => ApiKeyDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  @Delete(':id')
  @ApiAuth('platform')
  @ApiOperation({ summary: 'Revoke an API key (immediately; idempotent)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.RateLimited)
  async revoke(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<ApiKeyDto> {
    return ApiKeyDto.from(await this.keys.revoke(caller, id));
  }

  @Post(':id/rotate')
  @ApiAuth('platform')
  @ApiOperation({
    summary: 'Rotate an API key',
    description:
      'Issues a new key with the same role, scopes and tenant (shown once). The old key keeps working for ' +
      'API_KEY_ROTATION_GRACE_SECONDS (default 24 h), then stops.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiCreatedResponse({ type: ApiKeyCreatedDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.Conflict, ErrorCode.RateLimited)
  async rotate(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<ApiKeyCreatedDto> {
    const { row, key } = await this.keys.rotate(caller, id);
    return { ...ApiKeyDto.from(row), key };
  }
}

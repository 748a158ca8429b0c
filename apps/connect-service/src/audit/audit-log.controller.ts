import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { AuditLogService } from './audit-log.service';
import { AuditLogEntryDto, AuditLogListDto, ListAuditLogQueryDto } from './dto/audit-log.dto';

@ApiTags('audit')
@Controller('connect/audit-log')
export class AuditLogController {
  constructor(private readonly audit: AuditLogService) {}

  @Get()
  @ApiAuth('admin')
  @ApiOperation({
    summary: 'The audit log, newest first',
    description: 'Platform: every tenant, or one with `tenant_id`. Tenant admins: their own tenant only.',
  })
  @ApiOkResponse({ type: AuditLogListDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.RateLimited)
  async list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListAuditLogQueryDto,
  ): Promise<AuditLogListDto> {
    const page = await this.audit.list(caller, {
      tenantId: query.tenant_id,
      action: query.action,
      limit: query.limit,
      cursor: query.cursor,
    });
    return {
      data: page.rows.map((r) => AuditLogEntryDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }
}

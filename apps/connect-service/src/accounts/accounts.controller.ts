import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Roles, Scopes } from '@app/auth';
import { ApiErrors } from '@app/common';
import { ConnectAccountDto } from './dto/connect-account.dto';
import { AccountsService } from './accounts.service';

@ApiTags('accounts')
@Controller('connect/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get(':tenantId')
  @Roles('viewer')
  @Scopes('accounts:read')
  @ApiAuth('viewer', 'accounts:read')
  @ApiOperation({ summary: "The tenant's connected Stripe account with its status and requirements" })
  @ApiParam({ name: 'tenantId', example: 'tenant_acme' })
  @ApiOkResponse({ type: ConnectAccountDto })
  @ApiErrors('CONNECT_030')
  async get(@Param('tenantId') tenantId: string): Promise<ConnectAccountDto> {
    return ConnectAccountDto.from(await this.accounts.getByTenant(tenantId));
  }
}

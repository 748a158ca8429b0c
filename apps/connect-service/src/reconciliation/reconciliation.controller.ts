import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import {
  CreateReconciliationRunDto,
  ListReconciliationItemsQueryDto,
  ListReconciliationRunsQueryDto,
  ReconciliationItemDto,
  ReconciliationItemListDto,
  ReconciliationRunDto,
  ReconciliationRunListDto,
  ResolveReconciliationItemDto,
} from './dto/reconciliation.dto';
import { ReconciliationService } from './reconciliation.service';

@ApiTags('reconciliation')
@Controller('connect/reconciliation')
export class ReconciliationController {
  constructor(private readonly reconciliation: ReconciliationService) {}

  @Post('runs')
  @HttpCode(202)
  @Audit('reconciliation.run', 'reconciliation_run')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'Start a reconciliation run over a window',
    description:
      'Queues one job per tenant (any replica takes them); poll `GET .../runs/:id`. Without `tenant_id` every ' +
      'connected tenant (platform only); a tenant admin reconciles its own tenant. A dry run heals nothing, ' +
      'changes no payment row and sends no ConnectEvent; it records only itself and its own items.',
  })
  @ApiAcceptedResponse({ type: ReconciliationRunDto, description: 'The run, `queued`.' })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  async create(
    @CurrentCaller() caller: Caller,
    @Body() dto: CreateReconciliationRunDto,
  ): Promise<ReconciliationRunDto> {
    return this.reconciliation.create(caller, dto);
  }

  @Get('runs')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({ summary: 'List reconciliation runs (newest first); a tenant caller sees its own tenant’s' })
  @ApiOkResponse({ type: ReconciliationRunListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  async list(
    @CurrentCaller() caller: Caller,
    @Query() q: ListReconciliationRunsQueryDto,
  ): Promise<ReconciliationRunListDto> {
    return this.reconciliation.list(caller, q);
  }

  @Get('runs/:id')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({ summary: 'One run: status, totals by category, items healed, Stripe calls made' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ReconciliationRunDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
  ): Promise<ReconciliationRunDto> {
    return ReconciliationRunDto.from(await this.reconciliation.get(caller, id));
  }

  @Get('runs/:id/items')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: 'The items a run saw, filtered by category and status (newest first)',
    description: 'Each item carries both sides: `local` (our route) and `stripe` (the Stripe object).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ReconciliationItemListDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  async items(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
    @Query() q: ListReconciliationItemsQueryDto,
  ): Promise<ReconciliationItemListDto> {
    return this.reconciliation.items(caller, id, q);
  }

  @Post('items/:id/resolve')
  @HttpCode(200)
  @Audit('reconciliation.resolve', 'reconciliation_item')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'Resolve an item by hand, with a note (audit-logged)',
    description: 'A resolved item stays resolved when later runs see the same difference again.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ReconciliationItemDto, description: 'The item, `resolved`.' })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound, ErrorCode.Conflict)
  async resolve(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
    @Body() dto: ResolveReconciliationItemDto,
  ): Promise<ReconciliationItemDto> {
    return this.reconciliation.resolve(caller, id, dto.note);
  }
}

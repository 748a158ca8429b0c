import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller, tenantScopeOf } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { WebhookBackfillRequestDto, WebhookBackfillResultDto } from './dto/webhook-backfill.dto';
import { ListWebhookEventsQueryDto, WebhookEventDto, WebhookEventListDto } from './dto/webhook-event.dto';
import { WebhookBackfillService } from './webhook-backfill.service';
import { WebhookInboxService } from './webhook-inbox.service';

/** The inbox and backfill; Stripe's deliveries themselves are served by WebhookIntake (http/direct-routes.ts). */
@ApiTags('webhooks')
@Controller('connect/webhooks')
export class WebhooksController {
  constructor(
    private readonly inbox: WebhookInboxService,
    private readonly backfillService: WebhookBackfillService,
  ) {}

  @Get('events')
  @ApiAuth('admin', 'webhooks:read')
  @ApiOperation({
    summary: 'The webhook inbox: events with their status, attempts and last error (newest first)',
  })
  @ApiOkResponse({ type: WebhookEventListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  async list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListWebhookEventsQueryDto,
  ): Promise<WebhookEventListDto> {
    const page = await this.inbox.list({
      tenantScope: tenantScopeOf(caller),
      tenantId: query.tenant_id,
      status: query.status,
      type: query.type,
      createdGte: query.created_gte ? new Date(query.created_gte) : undefined,
      createdLte: query.created_lte ? new Date(query.created_lte) : undefined,
      limit: query.limit ?? 20,
      cursor: query.cursor,
    });
    return {
      data: page.rows.map((r) => WebhookEventDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  @Get('events/:id')
  @ApiAuth('admin', 'webhooks:read')
  @ApiOperation({ summary: 'One inbox event with its payload' })
  @ApiParam({
    name: 'id',
    description: 'The inbox id or the Stripe event id (`evt_…`), from `GET /connect/webhooks/events`',
  })
  @ApiOkResponse({ type: WebhookEventDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<WebhookEventDto> {
    return WebhookEventDto.from(await this.inbox.get(id, tenantScopeOf(caller)), true);
  }

  @Post('events/:id/replay')
  @HttpCode(200)
  @ApiAuth('admin', 'webhooks:write')
  @ApiOperation({
    summary: 'Processes an inbox event again',
    description:
      'Re-enqueues the event (source becomes `replay`). Handlers are stale-checked, so replaying a processed ' +
      'event cannot apply its effect twice; an unmatched event gets its tenant resolved again.',
  })
  @ApiParam({
    name: 'id',
    description: 'The inbox id or the Stripe event id (`evt_…`), from `GET /connect/webhooks/events`',
  })
  @ApiOkResponse({ type: WebhookEventDto })
  @ApiErrors(ErrorCode.NotFound)
  async replay(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<WebhookEventDto> {
    return WebhookEventDto.from(await this.inbox.replay(id, tenantScopeOf(caller)));
  }

  @Post('backfill')
  @HttpCode(200)
  @ApiAuth('platform', 'webhooks:write')
  @ApiOperation({
    summary: "Fetches missed events from Stripe's Events API into the inbox",
    description:
      'Lists events since `since` (at most 30 days ago) for the platform and every connected account and feeds ' +
      'the missing ones through the inbox. Also `npm run webhooks:backfill -- --since <ISO date>`.',
  })
  @ApiOkResponse({ type: WebhookBackfillResultDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.StripeUnavailable, ErrorCode.StripeRequestFailed)
  async backfill(@Body() body: WebhookBackfillRequestDto): Promise<WebhookBackfillResultDto> {
    return this.backfillService.backfill(new Date(body.since), body.until ? new Date(body.until) : undefined);
  }
}

import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Param,
  Post,
  Query,
  RawBodyRequest,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiAuth, Caller, CurrentCaller, Public, tenantScopeOf } from '@app/auth';
import { ApiErrors, ServiceException, ErrorCode } from '@app/common';
import { StripeWebhookEventSource } from '@app/database';
import { StripeEvent, StripeGateway } from '@app/stripe-gateway';
import { RateLimitUnverifiedOnly } from '../security/rate-limit.guard';
import { UnverifiedRequestBudget } from '../security/unverified-request-budget';
import { WebhookBackfillRequestDto, WebhookBackfillResultDto } from './dto/webhook-backfill.dto';
import { ListWebhookEventsQueryDto, WebhookEventDto, WebhookEventListDto } from './dto/webhook-event.dto';
import { WebhookReceiptDto } from './dto/webhook-receipt.dto';
import { WebhookBackfillService } from './webhook-backfill.service';
import { WebhookInboxService } from './webhook-inbox.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecrets } from './webhook-secrets.service';
import { isThinPayload, ThinEventsIntake } from './thin-events.intake';

const EMPTY = Buffer.alloc(0);

@ApiTags('webhooks')
@Controller('connect/webhooks')
export class WebhooksController {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly gateway: StripeGateway,
    private readonly secrets: WebhookSecrets,
    private readonly inbox: WebhookInboxService,
    private readonly backfillService: WebhookBackfillService,
    private readonly metrics: WebhookMetrics,
    private readonly unverified: UnverifiedRequestBudget,
    private readonly thin: ThinEventsIntake,
  ) {}

  @Public()
  @RateLimitUnverifiedOnly()
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Stripe's webhook deliveries (account and Connect endpoints, and thin events from event destinations)",
    description:
      'Public, protected by the `Stripe-Signature` header (HMAC of the raw body, 300 s tolerance). Answers 200 only ' +
      'once the event is durably in the inbox with its processing job; 5xx makes Stripe retry. A delivery whose ' +
      'signature verifies is never rate-limited; only requests that fail verification or are unsigned spend the ' +
      'per-IP budget of public routes (over it: 429 instead of 400).',
  })
  @ApiHeader({ name: 'stripe-signature', required: true, example: 't=1764130000,v1=5257a869e7ec...' })
  @ApiBody({
    description: 'A Stripe Event, exactly as Stripe signed it',
    schema: { type: 'object', additionalProperties: true },
  })
  @ApiOkResponse({ type: WebhookReceiptDto })
  @ApiErrors(
    ErrorCode.WebhookInvalid,
    ErrorCode.MalformedRequest,
    ErrorCode.PayloadTooLarge,
    ErrorCode.ServiceUnavailable,
    ErrorCode.RateLimited,
  )
  async receive(
    @Req() req: RawBodyRequest<FastifyRequest>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookReceiptDto> {
    return this.intake(req, reply);
  }

  /**
   * Verify, then store with its processing job. The hot path: create-app.ts serves this route with it directly
   * from Fastify (the route is public and carries its own proof), so it must not rely on guards or interceptors.
   */
  async intake(req: RawBodyRequest<FastifyRequest>, reply: FastifyReply): Promise<WebhookReceiptDto> {
    const raw = req.rawBody ?? EMPTY;
    const signature = req.headers['stripe-signature'];
    let event: StripeEvent;
    try {
      // Thin notifications from our event destinations: their own secrets, the same inbox.
      if (isThinPayload(raw))
        return await this.thin.intake(raw, typeof signature === 'string' ? signature : undefined);
      event = this.gateway.verifyWebhook(
        raw,
        typeof signature === 'string' ? signature : undefined,
        this.secrets.all(),
      );
    } catch (err) {
      if (err instanceof ServiceException && err.code === ErrorCode.WebhookInvalid) {
        const reason = String(err.details?.reason ?? 'unknown');
        this.metrics.signatureFailures.inc({ reason });
        this.logger.warn({ reason, ip: req.ip, bytes: raw.length }, 'Webhook refused: invalid signature');
        await this.unverified.spend(req.ip, reply);
      }
      throw err;
    }
    const { duplicate } = await this.inbox.accept(
      event,
      raw.toString('utf8'),
      StripeWebhookEventSource.Webhook,
    );
    return { received: true, duplicate };
  }

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
    description: 'The inbox id or the Stripe event id',
    example: 'evt_1QxYz2AbCdEfGhIj',
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
    description: 'The inbox id or the Stripe event id',
    example: 'evt_1QxYz2AbCdEfGhIj',
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
    const [since, until] = [new Date(body.since), body.until ? new Date(body.until) : undefined];
    const counts = await this.backfillService.backfill(since, until);
    // Thin events too: `/v2/core/events` keeps what the event destinations delivered (or failed to).
    const v2 = await this.thin.backfill(since, until);
    return {
      ...counts,
      scanned: counts.scanned + v2.seen,
      inserted: counts.inserted + v2.inserted,
      duplicates: counts.duplicates + v2.seen - v2.inserted,
      failed_accounts: [...counts.failed_accounts, ...v2.failed],
    };
  }
}

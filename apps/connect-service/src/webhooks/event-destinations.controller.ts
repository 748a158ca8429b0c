import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '@app/auth';
import { ApiErrors, ErrorCode } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import {
  EventDestinationDto,
  EventDestinationListDto,
  UpsertEventDestinationDto,
} from './dto/event-destination.dto';
import { EventDestinationsService } from './event-destinations.service';

@ApiTags('webhooks')
@Controller('connect/webhooks/destinations')
export class EventDestinationsController {
  constructor(private readonly destinations: EventDestinationsService) {}

  @Post()
  @HttpCode(200)
  @Audit('webhook.destination.upsert', 'event_destination')
  @ApiAuth('platform', 'webhooks:write')
  @ApiOperation({
    summary:
      "Creates or updates the service's event destination at Stripe (thin events from every connected account)",
    description:
      '`event_payload: thin`, `events_from: ["@accounts", "@self"]`, the v2 account and account link event types unless ' +
      '`enabled_events` says otherwise. The signing secret, shown by Stripe only at creation, is stored sealed and ' +
      'never answered; `POST /connect/webhooks` verifies thin deliveries against every stored secret.',
  })
  @ApiBody({ type: UpsertEventDestinationDto })
  @ApiOkResponse({ type: EventDestinationDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.StripeUnavailable, ErrorCode.StripeRequestFailed)
  upsert(@Body() body: UpsertEventDestinationDto): Promise<EventDestinationDto> {
    return this.destinations.upsert(body);
  }

  @Get()
  @ApiAuth('platform', 'webhooks:read')
  @ApiOperation({ summary: "The service's event destinations, without their secrets" })
  @ApiOkResponse({ type: EventDestinationListDto })
  async list(): Promise<EventDestinationListDto> {
    return { data: await this.destinations.list(), has_more: false, next_cursor: null };
  }
}

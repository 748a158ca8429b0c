import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { ConnectEventDto, ConnectEventListDto, ListConnectEventsQueryDto } from './dto/connect-event.dto';
import { EventDeliveryListDto, RedeliverEventDto } from './dto/event-delivery.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('connect/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiAuth('viewer', 'events:read')
  @ApiOperation({
    summary: 'ConnectEvents, newest first (for polling)',
    description:
      "A tenant caller sees its own tenant's events; the platform sees every tenant's or filters by `tenant_id`.",
  })
  @ApiOkResponse({ type: ConnectEventListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListConnectEventsQueryDto,
  ): Promise<ConnectEventListDto> {
    return this.events.list(caller, query);
  }

  @Get(':id')
  @ApiAuth('viewer', 'events:read')
  @ApiOperation({ summary: 'One ConnectEvent' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ConnectEventDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<ConnectEventDto> {
    return ConnectEventDto.from(await this.events.get(caller, id));
  }

  @Get(':id/deliveries')
  @ApiAuth('admin', 'events:read')
  @ApiOperation({
    summary: "The event's deliveries to subscriptions, each with its attempt log",
    description: 'Tenant admins see deliveries to their own subscriptions; the platform sees all.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: EventDeliveryListDto })
  @ApiErrors(ErrorCode.NotFound)
  async deliveries(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
  ): Promise<EventDeliveryListDto> {
    return { data: await this.events.deliveries(caller, id) };
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  @ApiAuth('admin', 'events:write')
  @ApiOperation({
    summary: 'Deliver the event again (a fresh round of the retry schedule)',
    description:
      'To one `subscription_id`, or to every active subscription the event matches (for a tenant admin: its own subscriptions).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({
    type: RedeliverEventDto,
    examples: {
      every_subscription: { summary: 'To every active subscription the event matches', value: {} },
    },
  })
  @ApiAcceptedResponse({ type: EventDeliveryListDto, description: 'The deliveries scheduled' })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound, ErrorCode.Conflict)
  async redeliver(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
    @Body() body: RedeliverEventDto,
  ): Promise<EventDeliveryListDto> {
    return { data: await this.events.redeliver(caller, id, body.subscription_id) };
  }
}

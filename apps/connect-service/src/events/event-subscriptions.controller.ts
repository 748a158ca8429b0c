import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import {
  CreateEventSubscriptionDto,
  EventSubscriptionCreatedDto,
  EventSubscriptionDto,
  EventSubscriptionListDto,
  ListEventSubscriptionsQueryDto,
} from './dto/event-subscription.dto';
import { EventSubscriptionsService } from './event-subscriptions.service';

@ApiTags('events')
@Controller('connect/event-subscriptions')
export class EventSubscriptionsController {
  constructor(private readonly subscriptions: EventSubscriptionsService) {}

  @Post()
  @ApiAuth('admin', 'events:write')
  @ApiOperation({
    summary: 'Subscribe an endpoint to ConnectEvents',
    description:
      'Answers the Standard Webhooks signing secret once; it is stored encrypted and never shown again. ' +
      'Admins subscribe for their own tenant; the platform for any tenant or (no `tenant_id`) all of them.',
  })
  @ApiCreatedResponse({ type: EventSubscriptionCreatedDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  create(
    @CurrentCaller() caller: Caller,
    @Body() body: CreateEventSubscriptionDto,
  ): Promise<EventSubscriptionCreatedDto> {
    return this.subscriptions.create(caller, body);
  }

  @Get()
  @ApiAuth('admin', 'events:read')
  @ApiOperation({ summary: 'Subscriptions, newest first (never their secrets)' })
  @ApiOkResponse({ type: EventSubscriptionListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListEventSubscriptionsQueryDto,
  ): Promise<EventSubscriptionListDto> {
    return this.subscriptions.list(caller, query);
  }

  @Get(':id')
  @ApiAuth('admin', 'events:read')
  @ApiOperation({ summary: 'One subscription (never its secret)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: EventSubscriptionDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
  ): Promise<EventSubscriptionDto> {
    return EventSubscriptionDto.from(await this.subscriptions.get(caller, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiAuth('admin', 'events:write')
  @ApiOperation({ summary: 'Delete a subscription (its pending deliveries stop; its history is kept)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(ErrorCode.NotFound)
  async remove(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<void> {
    await this.subscriptions.remove(caller, id);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiAuth('admin', 'events:write')
  @ApiOperation({
    summary: 'Re-enable a subscription disabled after persistent failures (resets its failure streak)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: EventSubscriptionDto })
  @ApiErrors(ErrorCode.NotFound)
  async enable(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
  ): Promise<EventSubscriptionDto> {
    return EventSubscriptionDto.from(await this.subscriptions.enable(caller, id));
  }
}

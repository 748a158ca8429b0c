import { Global, Module } from '@nestjs/common';
import { EventDeliveryWorker } from './event-delivery.worker';
import { EventDispatchWorker } from './event-dispatch.worker';
import { EventQueues } from './event-queues';
import { EventSubscriptionsController } from './event-subscriptions.controller';
import { EventSubscriptionsService } from './event-subscriptions.service';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * ConnectEvents to the platform: the outbox (`EventsService.emit`, called by every feature inside its own
 * transaction), polling, subscriptions and signed delivery. Global, so features inject EventsService directly.
 */
@Global()
@Module({
  controllers: [EventsController, EventSubscriptionsController],
  providers: [
    EventsService,
    EventSubscriptionsService,
    EventQueues,
    EventDispatchWorker,
    EventDeliveryWorker,
  ],
  exports: [EventsService],
})
export class EventsModule {}

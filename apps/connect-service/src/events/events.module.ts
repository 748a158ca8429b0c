import { Module } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { JobQueueModule } from '../queue/job-queue.module';
import { ConnectEventsRepository } from './connect-events.repository';
import { EventDeliveriesRepository } from './event-deliveries.repository';
import { EventDeliveryWorker } from './event-delivery.worker';
import { EventDispatchWorker } from './event-dispatch.worker';
import { EventQueues } from './events.queues';
import { EventSubscriptionsController } from './event-subscriptions.controller';
import { EventSubscriptionsRepository } from './event-subscriptions.repository';
import { EventSubscriptionsService } from './event-subscriptions.service';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * ConnectEvents to the platform: the outbox (`EventsService.emit`, called by every feature inside its own
 * transaction), polling, subscriptions and signed delivery. Features that emit import EventsModule.
 */
@Module({
  imports: [DatabaseModule, JobQueueModule, CryptoModule],
  controllers: [EventsController, EventSubscriptionsController],
  providers: [
    EventsService,
    EventSubscriptionsService,
    EventQueues,
    EventDispatchWorker,
    EventDeliveryWorker,
    ConnectEventsRepository,
    EventDeliveriesRepository,
    EventSubscriptionsRepository,
  ],
  exports: [EventsService],
})
export class EventsModule {}

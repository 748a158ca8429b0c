import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { RoutingController } from './routing.controller';
import { RoutingService } from './routing.service';

/** Routing rule sets and their evaluation; PaymentsModule asks it for the active version. */
@Module({
  imports: [DatabaseModule, EventsModule, AuditModule],
  controllers: [RoutingController],
  providers: [RoutingService],
  exports: [RoutingService],
})
export class RoutingModule {}

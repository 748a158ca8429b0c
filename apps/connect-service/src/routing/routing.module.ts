import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { FeesModule } from '../fees/fees.module';
import { RoutingController } from './routing.controller';
import { RoutingRuleSetsRepository } from './routing-rule-sets.repository';
import { RoutingService } from './routing.service';

/** Routing rule sets and their evaluation; PaymentsModule asks it for the active version. */
@Module({
  imports: [DatabaseModule, EventsModule, AuditModule, FeesModule],
  controllers: [RoutingController],
  providers: [RoutingService, RoutingRuleSetsRepository],
  exports: [RoutingService],
})
export class RoutingModule {}

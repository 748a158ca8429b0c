import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { JobQueueModule } from '../queue/job-queue.module';
import { StripeModule } from '../stripe/stripe.module';
import { PaymentsModule } from '../payments/payments.module';
import { PayoutsModule } from '../payouts/payouts.module';
import { ReconciliationController } from './reconciliation.controller';
import { ReconciliationEngine } from './reconciliation.engine';
import { ReconciliationMetrics } from './reconciliation-metrics';
import { ReconciliationService } from './reconciliation.service';
import { ReconciliationWorker } from './reconciliation.worker';
import { DriftFamilies } from './drift/drift-families';
import { DriftInputs } from './drift/drift-inputs';
import { PayoutStateSweep } from './payout-state.sweep';
import { PayoutSweep } from './payout.sweep';
import { UnseenSweep } from './unseen.sweep';
import { ReconciliationItemsRepository } from './reconciliation-items.repository';
import { ReconciliationJobsRepository } from './reconciliation-jobs.repository';
import { ReconciliationMatchesRepository } from './reconciliation-matches.repository';
import { ReconciliationPagesRepository } from './reconciliation-pages.repository';
import { ReconciliationRunsRepository } from './reconciliation-runs.repository';

/** Our routes against Stripe's objects: runs, drift items, heals through the webhook handlers, manual resolution. */
@Module({
  imports: [
    DatabaseModule,
    JobQueueModule,
    StripeModule,
    EventsModule,
    AuditModule,
    PaymentsModule,
    PayoutsModule,
  ],
  controllers: [ReconciliationController],
  providers: [
    ReconciliationService,
    ReconciliationEngine,
    ReconciliationWorker,
    ReconciliationMetrics,
    DriftInputs,
    DriftFamilies,
    PayoutSweep,
    PayoutStateSweep,
    UnseenSweep,
    ReconciliationRunsRepository,
    ReconciliationJobsRepository,
    ReconciliationItemsRepository,
    ReconciliationMatchesRepository,
    ReconciliationPagesRepository,
  ],
})
export class ReconciliationModule {}

import { Module, OnApplicationBootstrap } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { JobQueueModule } from '../queue/job-queue.module';
import { PayoutsRepository } from '../payouts/payouts.repository';
import { JobQueue } from '../queue/job-queue.service';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsRollupsRepository } from './analytics-rollups.repository';
import { AnalyticsService } from './analytics.service';
import { ANALYTICS_FOLD_QUEUE, ANALYTICS_QUEUES } from './analytics.queues';

/**
 * Analytics: rollups fed by a database trigger on payment_routes, folded every minute by a pg-boss job (one run per
 * tick across replicas), the query API with CSV, and the rebuild command.
 */
@Module({
  imports: [DatabaseModule, JobQueueModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsService, AnalyticsRollupsRepository, PayoutsRepository],
  exports: [AnalyticsService],
})
export class AnalyticsModule implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly analytics: AnalyticsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define(ANALYTICS_QUEUES.fold);
    await this.queue.schedule(ANALYTICS_FOLD_QUEUE, '* * * * *');
    await this.queue.work(ANALYTICS_FOLD_QUEUE, { batchSize: 1 }, async () => {
      await this.analytics.fold();
    });
  }
}

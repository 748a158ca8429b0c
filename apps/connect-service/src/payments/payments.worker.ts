import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobQueue } from '../queue/job-queue.service';
import { IdempotencyService } from './idempotency.service';
import { PAYMENTS_QUEUES } from './payments.queues';
import { PaymentsService } from './payments.service';
import { RefundsService } from './refunds.service';
import { SplitJob, SplitTransfersService } from './split-transfers.service';
import { ReconcileJob, RefundReconcileJob, isRefundJob } from './stripe-params';

/** The payments module's background jobs: unknown outcomes resolved from Stripe, split transfers. */
@Injectable()
export class PaymentsWorker implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly splits: SplitTransfersService,
    private readonly idempotency: IdempotencyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { resolveOutcome, splitTransfers } = PAYMENTS_QUEUES;
    await this.queue.define(resolveOutcome);
    await this.queue.work<ReconcileJob | RefundReconcileJob>(
      resolveOutcome.name,
      { batchSize: 1, concurrency: 1 },
      async (job) => {
        if (isRefundJob(job.data)) await this.refunds.reconcile(job.data);
        else await this.payments.reconcile(job.data);
        if (job.retryCount === 0) await this.idempotency.purgeExpired();
      },
    );
    await this.queue.define(splitTransfers);
    await this.queue.work<SplitJob>(splitTransfers.name, { batchSize: 1, concurrency: 1 }, async (job) =>
      this.splits.run(job.data),
    );
  }
}

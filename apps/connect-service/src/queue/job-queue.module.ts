import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { ConfigType } from '@nestjs/config';
import { queueConfig } from '@app/config';
import { JOB_QUEUE_OPTIONS, JobQueue, JobQueueOptions } from './job-queue.service';

/** The pg-boss job queue (JobQueue) on the service's database. */
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: JOB_QUEUE_OPTIONS,
      inject: [queueConfig.KEY],
      useFactory: (cfg: ConfigType<typeof queueConfig>): JobQueueOptions => cfg,
    },
    JobQueue,
  ],
  exports: [JobQueue],
})
export class JobQueueModule {}

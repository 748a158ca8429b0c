import { Global, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { queueConfig } from '@app/config';
import { JOB_QUEUE_OPTIONS, JobQueue, JobQueueOptions } from './job-queue.service';

@Global()
@Module({
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

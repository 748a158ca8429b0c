import { Module } from '@nestjs/common';
import { FeePolicy } from './fee-policy';

/** The platform's application fees: the calculation, the schedules' validation and which schedule applies. */
@Module({ providers: [FeePolicy], exports: [FeePolicy] })
export class FeesModule {}

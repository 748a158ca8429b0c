import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { paymentsConfig } from '@app/config';
import type { ConnectAccountEntity, FeeSchedule } from '@app/database';
import { calculateFee } from './fee-calculator';

/**
 * Which fee schedule a charge pays: its route's own, else the tenant's, else the platform's. The one place both
 * routing (simulation, replay) and payments ask.
 */
@Injectable()
export class FeePolicy {
  constructor(@Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>) {}

  platformFeeSchedule(): FeeSchedule {
    return {
      basis_points: this.config.feeBasisPoints,
      fixed: this.config.feeFixed,
      minimum: this.config.feeMinimum,
      maximum: this.config.feeMaximum,
    };
  }

  /** The fee a route takes: its own schedule, else the tenant's, else the platform's. */
  feeFor(
    amount: number,
    currency: string,
    route: { fee?: FeeSchedule },
    account: Pick<ConnectAccountEntity, 'fee_schedule'> | null,
  ): number {
    return calculateFee(amount, currency, route.fee ?? account?.fee_schedule ?? this.platformFeeSchedule());
  }
}

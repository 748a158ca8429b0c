import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConnectAccountStatus } from '@app/database';
import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';
import { ConnectAccountsRepository } from './connect-accounts.repository';

const accountsReading = new ScrapeReading<Map<string, number>>('connect_accounts');

scrapeGauge({
  name: 'connect_accounts',
  help: 'Connected accounts by status (pending, active, restricted, disabled)',
  labelNames: ['status'] as const,
  reading: accountsReading,
  // Every status is published, 0 included, so a rule on a status that empties still has a series.
  values: (counts) =>
    Object.values(ConnectAccountStatus).map((status) => ({
      labels: { status },
      value: counts.get(status) ?? 0,
    })),
});

/** Feeds `connect_accounts{status}` from one grouped COUNT at scrape time (one row per tenant: a small table). */
@Injectable()
export class AccountMetrics implements OnModuleInit, OnModuleDestroy {
  private release: (() => void) | null = null;

  constructor(private readonly accounts: ConnectAccountsRepository) {}

  onModuleInit(): void {
    this.release = accountsReading.use(async () => {
      return this.accounts.countByStatus();
    });
  }

  onModuleDestroy(): void {
    this.release?.();
  }
}

import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { metric } from '@app/common';
import { moneyConfig } from '@app/config';
import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';
import { DisputesRepository } from './disputes.repository';

/** Card networks judge a merchant's dispute rate over a month: https://docs.stripe.com/disputes/measuring */
export const DISPUTE_RATE_WINDOW_DAYS = 30;

type Rates = Array<{ tenant_id: string; currency: string; rate: number }>;

const ratesReading = new ScrapeReading<Rates>('connect_tenant_dispute_rate');

scrapeGauge({
  name: 'connect_tenant_dispute_rate',
  help: `Disputed / succeeded payments by count over the last ${DISPUTE_RATE_WINDOW_DAYS} days, per tenant and currency (inquiries excluded)`,
  labelNames: ['tenant_id', 'currency'] as const,
  reading: ratesReading,
  // With no tenant to rate yet, one series at 0 with empty labels: Prometheus sees the metric from the first scrape.
  values: (rates) =>
    rates.length
      ? rates.map((r) => ({ labels: { tenant_id: r.tenant_id, currency: r.currency }, value: r.rate }))
      : [{ labels: { tenant_id: '', currency: '' }, value: 0 }],
});

const threshold = metric.gauge({
  name: 'connect_dispute_rate_alert_threshold',
  help: 'DISPUTE_RATE_ALERT_THRESHOLD: the dispute rate above which ConnectTenantDisputeRateHigh fires',
});

/** Feeds the dispute-rate gauges at scrape time from the disputes and payment_routes tables. */
@Injectable()
export class DisputeMetrics implements OnModuleInit, OnModuleDestroy {
  private release: (() => void) | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(moneyConfig.KEY) private readonly cfg: ConfigType<typeof moneyConfig>,
    private readonly repo: DisputesRepository,
  ) {}

  onModuleInit(): void {
    threshold.set(this.cfg.disputeRateAlertThreshold);
    this.release = ratesReading.use(() => this.repo.disputeRates(this.dataSource, DISPUTE_RATE_WINDOW_DAYS));
  }

  onModuleDestroy(): void {
    this.release?.();
  }
}

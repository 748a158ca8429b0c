import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DriftCategory, DriftItemStatus } from '@app/database';
import { ScrapeReading, scrapeGauge } from '../metrics/scrape-reading';
import { ReconciliationItemsRepository } from './reconciliation-items.repository';

const OPEN = [DriftItemStatus.Expected, DriftItemStatus.Mismatched];

const driftReading = new ScrapeReading<Map<string, number>>('connect_reconciliation_drift_items');

scrapeGauge({
  name: 'connect_reconciliation_drift_items',
  help: 'Open reconciliation items (expected or mismatched), by category and status',
  labelNames: ['category', 'status'] as const,
  reading: driftReading,
  // Every category and open status is published, 0 included, so an alert on one that empties keeps its series.
  values: (counts) =>
    Object.values(DriftCategory).flatMap((category) =>
      OPEN.map((status) => ({
        labels: { category, status },
        value: counts.get(`${category}|${status}`) ?? 0,
      })),
    ),
});

/** Feeds `connect_reconciliation_drift_items{category,status}` from one grouped COUNT of live items at scrape time. */
@Injectable()
export class ReconciliationMetrics implements OnModuleInit, OnModuleDestroy {
  private release: (() => void) | null = null;

  constructor(private readonly items: ReconciliationItemsRepository) {}

  onModuleInit(): void {
    this.release = driftReading.use(async () => {
      const rows = await this.items.openCounts();
      return new Map(rows.map((r) => [`${r.category}|${r.status}`, r.n]));
    });
  }

  onModuleDestroy(): void {
    this.release?.();
  }
}

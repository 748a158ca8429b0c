import { Gauge, register } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DriftCategory, DriftItemStatus } from '@app/database';

/** The data source the gauge reads at scrape time (the latest booted app's; tests boot several in one process). */
export const driftGaugeSource: { dataSource?: DataSource } = {};

const OPEN = [DriftItemStatus.Expected, DriftItemStatus.Mismatched];

function driftGauge(): Gauge<'category' | 'status'> {
  const name = 'connect_reconciliation_drift_items';
  const existing = register.getSingleMetric(name) as Gauge<'category' | 'status'> | undefined;
  if (existing) return existing;
  return new Gauge({
    name,
    help: 'Open reconciliation items (expected or mismatched), by category and status',
    labelNames: ['category', 'status'] as const,
    // Counted at scrape time from the items table, so every replica reports the same shared truth.
    async collect() {
      const ds = driftGaugeSource.dataSource;
      if (!ds?.isInitialized) return;
      const rows = (await ds.query(
        `SELECT category, status, count(*)::int AS n FROM reconciliation_items
          WHERE scope = 'live' AND status IN ('expected', 'mismatched') GROUP BY category, status`,
      )) as { category: string; status: string; n: number }[];
      for (const category of Object.values(DriftCategory))
        for (const status of OPEN) this.set({ category, status }, 0);
      for (const r of rows) this.set({ category: r.category, status: r.status }, r.n);
    },
  });
}

export const reconciliationDriftItems = driftGauge();

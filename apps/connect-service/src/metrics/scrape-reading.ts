import type { Gauge } from 'prom-client';
import { metric } from '@app/common';

const scrapeErrors = metric.counter({
  name: 'connect_metrics_scrape_errors_total',
  help: 'Scrape-time database readings that failed or timed out (their gauges kept their last values)',
  labelNames: ['reading'] as const,
});

/** Well under Prometheus's default 10 s scrape timeout, even with every reading waiting for a pool connection. */
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * One grouped query run at scrape time and shared by the gauges it feeds: each gauge's `collect()` asks for the
 * reading, and one scrape runs the query once however many gauges ask. A failed or slow query answers null
 * (and counts a scrape error), so its gauges keep their last values and /metrics still answers.
 */
export class ScrapeReading<T> {
  private source: (() => Promise<T>) | null = null;
  private inflight: Promise<T | null> | null = null;

  constructor(
    readonly name: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** The newest live app's query wins (one app per process in production); the returned function releases it. */
  use(source: () => Promise<T>): () => void {
    this.source = source;
    return () => {
      if (this.source === source) this.source = null;
    };
  }

  read(): Promise<T | null> {
    const source = this.source;
    if (!source) return Promise.resolve(null);
    this.inflight ??= this.timeBoxed(source).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async timeBoxed(source: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([source(), timeout]);
    } catch {
      scrapeErrors.inc({ reading: this.name });
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A gauge whose values come from a reading at scrape time. `values` maps the reading to every labelled value
 * to publish; label sets it no longer names are dropped, and a failed reading keeps the last values.
 */
export function scrapeGauge<T, L extends string>(opts: {
  name: string;
  help: string;
  labelNames?: readonly L[];
  reading: ScrapeReading<T>;
  values: (reading: T) => Array<{ labels?: Partial<Record<L, string>>; value: number }>;
}): Gauge<L> {
  return metric.gauge<L>({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames ?? [],
    async collect() {
      const reading = await opts.reading.read();
      if (reading === null) return;
      this.reset();
      for (const v of opts.values(reading)) {
        if (v.labels) this.set(v.labels, v.value);
        else this.set(v.value);
      }
    },
  });
}

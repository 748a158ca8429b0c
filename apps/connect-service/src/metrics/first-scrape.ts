import { Counter, Histogram, register } from 'prom-client';

/**
 * Gives every labelled counter and histogram that has no series yet one at 0, with empty label values (which
 * PromQL treats as absent labels). A labelled series is created by its first increment, so without this a fresh
 * replica exports only `# TYPE` lines: Prometheus sees no series, rate() and increase() stay empty, and a rule on
 * them cannot fire until the first event. Metrics with label values known up front initialise those themselves.
 */
export function initialiseEmptySeries(): number {
  let initialised = 0;
  for (const m of register.getMetricsAsArray()) {
    const metric = m as unknown as { labelNames?: string[]; hashMap?: Record<string, unknown> };
    const labelNames = metric.labelNames ?? [];
    if (labelNames.length === 0 || Object.keys(metric.hashMap ?? {}).length > 0) continue;
    const empty = Object.fromEntries(labelNames.map((l) => [l, '']));
    if (m instanceof Counter) m.inc(empty, 0);
    else if (m instanceof Histogram) m.zero(empty);
    else continue;
    initialised += 1;
  }
  return initialised;
}

import { Counter, Gauge } from 'prom-client';
import { getOrCreateMetric } from '../metrics/scrape-reading';

const ready = getOrCreateMetric(
  'connect_ready',
  () =>
    new Gauge({
      name: 'connect_ready',
      help: 'Outcome of the last readiness probe (GET /health/ready): 1 ready, 0 not ready',
    }),
);

const changes = getOrCreateMetric(
  'connect_readiness_changes_total',
  () =>
    new Counter({
      name: 'connect_readiness_changes_total',
      help: 'Readiness flips between ready and not ready (a flapping dependency shows as a fast rise)',
    }),
);

let last: boolean | null = null;

/** Records one readiness probe's outcome; a flip from the previous outcome counts a change. */
export function recordReadiness(isReady: boolean): void {
  if (last !== null && last !== isReady) changes.inc();
  last = isReady;
  ready.set(isReady ? 1 : 0);
}

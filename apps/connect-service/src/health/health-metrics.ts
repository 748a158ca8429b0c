import { metric } from '@app/common';

const ready = metric.gauge({
  name: 'connect_ready',
  help: 'Outcome of the last readiness probe (GET /health/ready): 1 ready, 0 not ready',
});

const changes = metric.counter({
  name: 'connect_readiness_changes_total',
  help: 'Readiness flips between ready and not ready (a flapping dependency shows as a fast rise)',
});

let last: boolean | null = null;

/** Records one readiness probe's outcome; a flip from the previous outcome counts a change. */
export function recordReadiness(isReady: boolean): void {
  if (last !== null && last !== isReady) changes.inc();
  last = isReady;
  ready.set(isReady ? 1 : 0);
}

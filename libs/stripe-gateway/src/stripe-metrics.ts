import { metric } from '@app/common';
import type { CircuitStateName } from './stripe-gateway.types';

export const CIRCUIT_STATE_VALUE: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };

/** The gateway's Prometheus metrics, on prom-client's default registry (served by GET /metrics). */
export class StripeMetrics {
  readonly requests = metric.counter({
    name: 'stripe_requests_total',
    help: 'Stripe calls (one per logical call, retries included) by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
  });

  readonly attempts = metric.counter({
    name: 'stripe_request_retries_total',
    help: 'Stripe call attempts repeated after a retryable failure, by operation',
    labelNames: ['operation'] as const,
  });

  readonly duration = metric.histogram({
    name: 'stripe_request_duration_seconds',
    help: 'Duration of Stripe calls (retries and backoff included) by operation',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });

  readonly circuit = metric.gauge({
    name: 'stripe_circuit_state',
    help: 'Circuit breaker state per Stripe operation family (0 closed, 1 half-open, 2 open)',
    labelNames: ['family'] as const,
  });
}

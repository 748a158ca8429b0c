import {
  BulkheadPolicy,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  RetryPolicy,
  TimeoutPolicy,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
} from 'cockatiel';
import { mapStripeError, outcomeOf } from './map-stripe-error';
import {
  RetryMode,
  isInfrastructureFailure,
  isRetryableFailure,
  retryAfterAwareBackoff,
} from './retry-decision';
import { CircuitStateName, OPERATION_FAMILIES, OperationFamily } from './stripe-gateway.types';
import { CIRCUIT_STATE_VALUE, StripeMetrics } from './stripe-metrics';

export interface StripeResilienceOptions {
  /** Hard deadline per attempt (stripeConfig.timeoutMs). */
  timeoutMs?: number;
  retry?: {
    /** Retries after the first attempt. */
    maxRetries?: number;
    initialDelayMs?: number;
    maxDelayMs?: number;
    /** Longest `Retry-After` honoured; a longer ask waits this long. */
    maxRetryAfterMs?: number;
  };
  breaker?: {
    /** Consecutive infrastructure failures that open a family's circuit. */
    threshold?: number;
    /** How long an open circuit fails fast before letting one probe through. */
    halfOpenAfterMs?: number;
  };
  bulkhead?: {
    /** Stripe calls in flight at once, across every family. */
    limit?: number;
    /** Calls waiting for a slot; beyond it they fail fast with StripeUnavailable. */
    queue?: number;
  };
}

const DEFAULTS = {
  timeoutMs: 10_000,
  retry: { maxRetries: 3, initialDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 10_000 },
  breaker: { threshold: 5, halfOpenAfterMs: 10_000 },
  bulkhead: { limit: 50, queue: 50 },
};

const STATE_NAME: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * The policy every Stripe call goes through, outermost first: a bulkhead (bounded concurrency), a retry
 * policy (exponential backoff with jitter, honouring Retry-After and Stripe-Should-Retry), the family's
 * circuit breaker (counts only infrastructure failures) and a per-attempt timeout
 * (https://docs.stripe.com/error-handling).
 */
export class StripeResilience {
  readonly timeoutMs: number;
  // Private fields stay out of util.inspect / JSON output, so logging the gateway never prints the key.
  readonly #secretKey: string;
  readonly #metrics = new StripeMetrics();
  readonly #bulkhead: BulkheadPolicy;
  readonly #retry: Record<RetryMode, RetryPolicy>;
  readonly #timeout: TimeoutPolicy;
  readonly #breakers: Record<OperationFamily, CircuitBreakerPolicy>;

  /** `secretKey` is only used to redact it from mapped errors. */
  constructor(secretKey: string, options: StripeResilienceOptions = {}) {
    this.#secretKey = secretKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const retryOptions = { ...DEFAULTS.retry, ...options.retry };
    const breakerOptions = { ...DEFAULTS.breaker, ...options.breaker };
    const bulkheadOptions = { ...DEFAULTS.bulkhead, ...options.bulkhead };

    this.#bulkhead = bulkhead(bulkheadOptions.limit, bulkheadOptions.queue);
    // No abort on return: attempts ignore the signal, and each abort builds a DOMException with its stack trace.
    this.#timeout = timeout(this.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    const makeRetry = (mode: RetryMode): RetryPolicy =>
      retry(
        handleWhen((err) => isRetryableFailure(err, mode)),
        {
          maxAttempts: retryOptions.maxRetries,
          backoff: retryAfterAwareBackoff(
            new ExponentialBackoff({
              initialDelay: retryOptions.initialDelayMs,
              maxDelay: retryOptions.maxDelayMs,
            }),
            retryOptions.maxRetryAfterMs,
          ),
        },
      );
    this.#retry = { idempotent: makeRetry('idempotent'), unsafe: makeRetry('unsafe') };

    const breakers = {} as Record<OperationFamily, CircuitBreakerPolicy>;
    for (const family of OPERATION_FAMILIES) {
      const breaker = circuitBreaker(handleWhen(isInfrastructureFailure), {
        halfOpenAfter: breakerOptions.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(breakerOptions.threshold),
      });
      this.#metrics.circuit.set({ family }, CIRCUIT_STATE_VALUE.closed);
      breaker.onStateChange((state) =>
        this.#metrics.circuit.set({ family }, CIRCUIT_STATE_VALUE[STATE_NAME[state]]),
      );
      breakers[family] = breaker;
    }
    this.#breakers = breakers;
  }

  /**
   * Runs one logical call. `attempt` is invoked once per attempt and must reuse the same request options
   * (hence the same idempotency key) every time.
   */
  async run<T>(
    operation: string,
    family: OperationFamily,
    mode: RetryMode,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const stopTimer = this.#metrics.duration.startTimer({ operation });
    let attempts = 0;
    try {
      const result = await this.#bulkhead.execute(() =>
        this.#retry[mode].execute(() => {
          if (attempts++ > 0) this.#metrics.attempts.inc({ operation });
          return this.#breakers[family].execute(() => this.#timeout.execute(() => attempt()));
        }),
      );
      this.#metrics.requests.inc({ operation, outcome: 'success' });
      return result;
    } catch (err) {
      this.#metrics.requests.inc({ operation, outcome: outcomeOf(err) });
      throw mapStripeError(err, this.#secretKey) ?? err;
    } finally {
      stopTimer();
    }
  }

  circuitStates(): Record<OperationFamily, CircuitStateName> {
    const out = {} as Record<OperationFamily, CircuitStateName>;
    for (const family of OPERATION_FAMILIES) out[family] = STATE_NAME[this.#breakers[family].state];
    return out;
  }
}

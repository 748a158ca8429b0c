/**
 * Injected failures for the next N matching requests, consumed in the order they were added.
 * 'before': answer with the fault instead of processing. 'after': process (state and idempotency are
 * recorded), then answer with the fault or late: "Stripe did it but the client never saw the answer".
 */
export interface FaultSpec {
  path: string;
  method?: string;
  count: number;
  status?: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
  delay_ms?: number;
  mode?: 'before' | 'after';
}

export class FaultRegistry {
  private faults: FaultSpec[] = [];

  add(spec: FaultSpec): void {
    if (typeof spec.path !== 'string' || !(spec.count > 0)) {
      throw new Error('a fault needs `path` (string) and `count` (> 0)');
    }
    this.faults.push({ ...spec, method: spec.method?.toUpperCase(), mode: spec.mode ?? 'before' });
  }

  clear(): void {
    this.faults = [];
  }

  list(): FaultSpec[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Consumes one use of the first fault matching this request, if any. */
  take(method: string, path: string): FaultSpec | null {
    const fault = this.faults.find((f) => path.startsWith(f.path) && (!f.method || f.method === method));
    if (!fault) return null;
    fault.count -= 1;
    if (fault.count <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }
}

/** Stripe's bodies for the statuses tests inject. https://docs.stripe.com/error-codes */
export function defaultFaultBody(status: number): Record<string, unknown> {
  if (status === 429) {
    return {
      error: {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: 'Too many requests hit the API too quickly. (emulated fault)',
      },
    };
  }
  if (status === 409) {
    return {
      error: {
        type: 'invalid_request_error',
        code: 'lock_timeout',
        message:
          'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. (emulated fault)',
      },
    };
  }
  return { error: { type: 'api_error', message: 'An unknown error occurred (emulated fault).' } };
}

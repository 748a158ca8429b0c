import {
  Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracingSettings } from '@app/config/tracing';

/**
 * Tracing is on exactly when an OTLP endpoint is configured (tracing.ts starts the SDK then). Read once: every
 * helper below returns at once when it is off, so the hot paths pay one boolean test.
 */
export const tracingEnabled = tracingSettings().enabled;

const tracer = trace.getTracer('connect-service');

/** The W3C trace context of the active span (`traceparent`, and `tracestate` when set); empty when off. */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (tracingEnabled) propagation.inject(context.active(), carrier);
  return carrier;
}

/** `data` plus the active trace context, for a job to continue the trace; `data` itself when there is none. */
export function withTraceContext<T extends object>(data: T): T {
  if (!tracingEnabled) return data;
  const carrier = currentTraceCarrier();
  return carrier.traceparent ? { ...data, ...carrier } : data;
}

/** The active trace context as a JSON object, for SQL that builds a job's data ('{}' when off or outside a trace). */
export function traceCarrierJson(): string {
  return tracingEnabled ? JSON.stringify(currentTraceCarrier()) : '{}';
}

/**
 * Runs `fn` in a new span, child of the trace context in `carrier` (e.g. the `traceparent` stored in a job's data)
 * or of the active span when the carrier has none; the span records a thrown error and ends with `fn`.
 */
export async function inSpan<T>(
  name: string,
  opts: { kind?: SpanKind; attributes?: Attributes; carrier?: object },
  fn: (span: Span | null) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled) return fn(null);
  const carrier = opts.carrier as Record<string, unknown> | undefined;
  const parent =
    carrier && typeof carrier.traceparent === 'string'
      ? propagation.extract(ROOT_CONTEXT, carrier)
      : context.active();
  return tracer.startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Sets attributes on the active span (the HTTP request's, in a controller); nothing when off. */
export function annotateActiveSpan(attributes: Attributes): void {
  if (tracingEnabled) trace.getActiveSpan()?.setAttributes(attributes);
}

export { SpanKind };

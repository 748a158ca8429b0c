import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

type TraceContext = typeof import('./trace-context');

/** Loads trace-context.ts afresh with the environment given (its switch is read once, at load). */
function load(env: { OTEL_EXPORTER_OTLP_ENDPOINT?: string }): TraceContext {
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  let mod: TraceContext | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('./trace-context') as TraceContext;
  });
  if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
  return mod!;
}

describe('trace context through job data', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => provider.register());
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    // The API's globals outlive this file in the jest worker: leave them as the other specs expect them.
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('keeps intake, job, handler and delivery in ONE trace across stored job data', async () => {
    const tc = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    // What pg-boss stores and gives back: JSON, read in a worker outside any active span.
    const stored = (data: object) => JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
    const intakeJob = await tc.inSpan('POST /connect/webhooks', { kind: SpanKind.SERVER }, async () =>
      stored({ inboxId: 'i1', ...(JSON.parse(tc.traceCarrierJson()) as object) }),
    );
    expect(intakeJob.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const dispatchJob = await context.with(ROOT_CONTEXT, () =>
      tc.inSpan('job webhooks.process-stripe-event', { kind: SpanKind.CONSUMER, carrier: intakeJob }, () =>
        tc.inSpan('webhook handler account.updated', {}, async () =>
          stored(tc.withTraceContext({ eventId: 'e1' })),
        ),
      ),
    );
    const deliverJob = await context.with(ROOT_CONTEXT, () =>
      tc.inSpan(
        'job events.fan-out-to-subscriptions',
        { kind: SpanKind.CONSUMER, carrier: dispatchJob },
        async () => stored(tc.withTraceContext({ deliveryId: 'd1' })),
      ),
    );
    await context.with(ROOT_CONTEXT, () =>
      tc.inSpan(
        'job events.deliver-to-endpoint',
        { kind: SpanKind.CONSUMER, carrier: deliverJob },
        async () => undefined,
      ),
    );

    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const parentOf = (name: string) => byName.get(name)?.parentSpanContext?.spanId;
    const idOf = (name: string) => byName.get(name)?.spanContext().spanId;
    expect(parentOf('POST /connect/webhooks')).toBeUndefined();
    expect(parentOf('job webhooks.process-stripe-event')).toBe(idOf('POST /connect/webhooks'));
    expect(parentOf('webhook handler account.updated')).toBe(idOf('job webhooks.process-stripe-event'));
    expect(parentOf('job events.fan-out-to-subscriptions')).toBe(idOf('webhook handler account.updated'));
    expect(parentOf('job events.deliver-to-endpoint')).toBe(idOf('job events.fan-out-to-subscriptions'));
  });

  it('records a thrown error on the span and rethrows it', async () => {
    const tc = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    await expect(tc.inSpan('job x', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toEqual({ code: 2, message: 'boom' });
  });

  it('does nothing when tracing is off: data unchanged, no span, even with a provider registered', async () => {
    const tc = load({});
    const data = { inboxId: 'i1' };
    await tc.inSpan('intake', {}, async (span) => {
      expect(span).toBeNull();
      expect(tc.withTraceContext(data)).toBe(data);
      expect(tc.traceCarrierJson()).toBe('{}');
    });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

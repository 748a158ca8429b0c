import type { IncomingMessage } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { tracingSettings } from '@app/config/tracing';

/** Probes and scrapes every few seconds would bury the traces worth reading. */
function isProbe(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return url.startsWith('/health/') || url === '/metrics';
}

/**
 * The official Node SDK, configured from the standard OTEL_* variables (endpoint, OTEL_EXPORTER_OTLP_PROTOCOL,
 * headers, sampler, resource attributes); traces only: metrics stay on Prometheus (/metrics).
 */
export function startTracingSdk(): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: tracingSettings().serviceName,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Incoming requests, and outgoing node:http calls: the stripe SDK's client uses node:http.
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbe }),
      // fetch(): outbound ConnectEvent deliveries to subscription endpoints.
      new UndiciInstrumentation(),
      // Route-level spans; registers itself on every Fastify instance as it is created.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route) => route.url.startsWith('/health/') || route.url === '/metrics',
      }),
      // Only inside a trace: pg-boss's and the cache's polling would otherwise be a root span each.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}

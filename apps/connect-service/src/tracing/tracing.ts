/*
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. main.ts imports this file FIRST: the
 * instrumentations patch http, pg, ioredis and fastify as those modules are first required, so the SDK must start
 * before anything else loads them. When off, the SDK is not even loaded (a lazy require behind one env check).
 */
import { tracingEnabled } from './trace-context';

type Sdk = { shutdown(): Promise<void> };

let sdk: Sdk | null = null;

if (tracingEnabled) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startTracingSdk } = require('./tracing-sdk') as typeof import('./tracing-sdk');
  sdk = startTracingSdk();
}

/** Flushes the spans still buffered (call before the process exits). */
export async function shutdownTracing(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
}

import { str } from './env';

/**
 * The tracing switch, readable before anything else loads (it imports nothing of Nest): the SDK starts, and the
 * span helpers work, exactly when an OTLP endpoint is configured. Every other OTEL_* variable (protocol, headers,
 * sampler, resource attributes) is read by the OpenTelemetry SDK itself.
 */
export function tracingSettings(env: Record<string, string | undefined> = process.env): {
  enabled: boolean;
  serviceName: string;
} {
  return {
    enabled: str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined,
    serviceName: str(env, 'OTEL_SERVICE_NAME') ?? 'connect-service',
  };
}

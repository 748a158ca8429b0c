import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as SentrySdk from '@sentry/nestjs';
import type { ConfigType } from '@nestjs/config';
import type { errorTrackingConfig } from '@app/config';
import { DROP_REASONS, droppedErrorReports, errorReports, ReportKind } from './error-tracking.metrics';
import { scrub } from './scrub';

/** What a report is grouped and searched by; never a raw URL (it may carry ids or tokens), only the route. */
export interface ReportTags {
  kind: ReportKind;
  request_id?: string;
  route?: string;
  tenant_id?: string | null;
  job?: string;
  stripe_request_id?: string;
  subscription_id?: string;
}

let enabled = false;

/** The service's version (package.json), the default release. */
function packageVersion(): string | undefined {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'connect-service') return pkg.version;
  }
  return undefined;
}

/**
 * Sentry's Node transport behind a bounded buffer: at most `max` reports wait or travel at once, the rest are
 * dropped and counted. Sending never sits on a request's path, so a tracker that is down or slow costs the
 * requests nothing.
 */
function boundedTransport(Sentry: typeof SentrySdk, max: number) {
  return (options: Parameters<typeof SentrySdk.makeNodeTransport>[0]) =>
    Sentry.makeNodeTransport({
      ...options,
      bufferSize: max,
      recordDroppedEvent: (reason, category, count) => {
        if (category === 'error' && (DROP_REASONS as readonly string[]).includes(reason)) {
          droppedErrorReports.inc({ reason }, count ?? 1);
        }
        options.recordDroppedEvent(reason, category, count);
      },
    });
}

let sdk: typeof SentrySdk | undefined;
/** The SDK, loaded on first use: without SENTRY_DSN its ~600 modules are never read (boot time, memory). */
function sentry(): typeof SentrySdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (sdk ??= require('@sentry/nestjs') as typeof SentrySdk);
}

/** Starts error tracking when SENTRY_DSN is set; answers whether it is on. */
export function startErrorTracking(cfg: ConfigType<typeof errorTrackingConfig>): boolean {
  if (!cfg.dsn) return false;
  const Sentry = sentry();
  Sentry.init({
    dsn: cfg.dsn,
    environment: cfg.environment,
    release: cfg.release ?? packageVersion(),
    tracesSampleRate: cfg.tracesSampleRate,
    // Traces are OpenTelemetry's (tracing/); Sentry must neither install a second OpenTelemetry nor hook the
    // process: our own handlers decide what is reported (5xx, not 4xx) and what a fatal error does.
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    defaultIntegrations: false,
    integrations: [Sentry.linkedErrorsIntegration(), Sentry.dedupeIntegration()],
    maxBreadcrumbs: 0,
    transport: boundedTransport(Sentry, cfg.maxQueuedReports),
    beforeSend: (event) => scrub(event),
  });
  enabled = true;
  return true;
}

export async function stopErrorTracking(): Promise<void> {
  if (!enabled) return;
  enabled = false;
  // Sends what is queued, for at most 2 s: a tracker that is down must not hold up the shutdown.
  await sentry().close(2_000);
}

export function errorTrackingEnabled(): boolean {
  return enabled;
}

/**
 * Reports one error with its tags (a no-op without SENTRY_DSN). Never throws, never waits: the event is built
 * (stack, redaction, serialisation) on a later turn of the event loop, after the failing request's answer is sent.
 */
export function reportError(err: unknown, tags: ReportTags): void {
  if (!enabled) return;
  errorReports.inc({ kind: tags.kind });
  const error = err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'Non-error thrown');
  setImmediate(() => {
    if (!enabled) return;
    const Sentry = sentry();
    Sentry.withScope((scope) => {
      for (const [k, v] of Object.entries(tags)) if (typeof v === 'string' && v !== '') scope.setTag(k, v);
      Sentry.captureException(error);
    });
  });
}

/** The Stripe request id of a failure that came from Stripe (the SDK's error, or our ServiceException's details). */
export function stripeRequestIdOf(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 3) return undefined;
  const o = err as Record<string, unknown>;
  for (const k of ['requestId', 'request_id', 'stripe_request_id']) {
    const v = o[k];
    if (typeof v === 'string' && v.startsWith('req_')) return v;
  }
  for (const k of ['details', 'raw', 'stripe', 'cause']) {
    const found = stripeRequestIdOf(o[k], depth + 1);
    if (found) return found;
  }
  return undefined;
}

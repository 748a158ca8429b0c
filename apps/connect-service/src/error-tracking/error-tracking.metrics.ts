import { metric } from '@app/common';

export const REPORT_KINDS = [
  'http_5xx',
  'unhandled_rejection',
  'uncaught_exception',
  'dead_letter',
  'subscription_disabled',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const errorReports = metric.counter({
  name: 'connect_error_reports_total',
  help: 'Errors handed to the error tracker (SENTRY_DSN), by kind',
  labelNames: ['kind'],
});

export const DROP_REASONS = ['queue_overflow', 'network_error', 'send_error', 'ratelimit_backoff'] as const;

export const droppedErrorReports = metric.counter({
  name: 'connect_error_reports_dropped_total',
  help: 'Error reports the tracker never received: queue full, tracker unreachable or refusing, by reason',
  labelNames: ['reason'],
});

// Every series a dashboard or rule names exists from the first scrape.
for (const kind of REPORT_KINDS) errorReports.inc({ kind }, 0);
for (const reason of DROP_REASONS) droppedErrorReports.inc({ reason }, 0);

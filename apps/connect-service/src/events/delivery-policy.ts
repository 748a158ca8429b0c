import { isIP } from 'node:net';
import { ALL_EVENT_TYPES_WILDCARD } from './connect-event-types';

/**
 * The wait before the next attempt after attempt `step` (0-based within a round) failed, or null when the
 * schedule is exhausted and the delivery has failed for good.
 */
export function nextRetryDelaySeconds(schedule: readonly number[], step: number): number | null {
  return step >= 0 && step < schedule.length ? schedule[step] : null;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Why a subscription URL is refused, or null when it is acceptable: https only, except plain http to a
 * loopback address outside production (local receivers in development and tests). Credentials in the URL are
 * refused because the URL is shown back in every GET.
 */
export function subscriptionUrlProblem(raw: string, opts: { production: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && !opts.production && isLoopback(url.hostname)) return null;
  return opts.production
    ? 'must use https'
    : 'must use https (http is accepted only for localhost outside production)';
}

/** Deduplicates the requested types; any '*' makes the subscription a wildcard. */
export function normalizeEventTypes(types: readonly string[]): string[] {
  if (types.includes(ALL_EVENT_TYPES_WILDCARD)) return [ALL_EVENT_TYPES_WILDCARD];
  return [...new Set(types)].sort();
}

/** The same rule as the dispatch query: tenant match (or all tenants) and type match (or '*'). */
export function subscriptionMatches(
  sub: { tenant_id: string | null; event_types: readonly string[] },
  event: { tenant_id: string; type: string },
): boolean {
  const tenantOk = sub.tenant_id === null || sub.tenant_id === event.tenant_id;
  return (
    tenantOk && (sub.event_types.includes(ALL_EVENT_TYPES_WILDCARD) || sub.event_types.includes(event.type))
  );
}

/** Postgres text cannot hold NUL; the log keeps the first `max` characters of what the receiver said. */
export function responseExcerpt(body: string, max = 1024): string {
  return body.replaceAll('\u0000', '').slice(0, max);
}

import { setTimeout as sleep } from 'node:timers/promises';

/** PostgreSQL / driver signs that the database, not the request, is the problem: answer 503 so callers retry. */
const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

const DB_UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|Query runner already released|connection provided by a query runner was already released/i;

/** True when `err` says the database is unreachable, restarting or out of connections (not that the query is wrong). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown };
  if (typeof e.code === 'string' && (DB_UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08')))
    return true;
  if (typeof e.message === 'string' && DB_UNAVAILABLE_MESSAGE.test(e.message)) return true;
  return e.driverError !== undefined && e.driverError !== err && isDatabaseUnavailable(e.driverError);
}

/**
 * Runs `fn`, and again while it fails because the database is unavailable (a restart, a failover), for up to
 * `maxMs`. For writes that must not be lost once something irreversible happened (Stripe already charged): the
 * caller may have been answered 503 by the request deadline meanwhile, and its retry finds the stored result.
 */
export async function whileDatabaseUnavailable<T>(fn: () => Promise<T>, maxMs = 60_000): Promise<T> {
  const giveUpAt = Date.now() + maxMs;
  let delay = 200;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() + delay > giveUpAt) throw err;
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

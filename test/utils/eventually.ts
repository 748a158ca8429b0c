/**
 * The one polling helper of the e2e suites: calls `probe` until it answers a truthy value and answers that value.
 * Fails naming `what` (and the last value seen) after `timeoutMs`; an error thrown by `probe` fails at once.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(value)})`);
    }
    await sleep(intervalMs);
  }
}

/** A fixed pause, for the cases where the point is that something does NOT happen meanwhile. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

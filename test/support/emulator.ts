import type { RequestLogEntry } from '@app/stripe-emulator';

/**
 * The one emulator control of the e2e suites: calls its control API (`/_emulator/...`), e.g.
 * `emulatorControl(t.emulatorUrl!, 'accounts/acct_1/verification', { action: 'complete' })`.
 */
export async function emulatorControl<T = unknown>(
  emulatorUrl: string,
  path: string,
  body?: unknown,
  method = 'POST',
): Promise<T> {
  const res = await fetch(`${emulatorUrl}/_emulator/${path.replace(/^\//, '')}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator control ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One entry of the emulator's request log. */
export type EmulatorRequest = RequestLogEntry;

/** The Stripe calls the emulator has logged, those whose path starts with `path` (and of `method`) when given. */
export async function emulatorRequests(
  emulatorUrl: string,
  filter: { path?: string; method?: string } = {},
): Promise<EmulatorRequest[]> {
  const query = new URLSearchParams(
    Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined),
  ).toString();
  const { data } = await emulatorControl<{ data: EmulatorRequest[] }>(
    emulatorUrl,
    `requests${query ? `?${query}` : ''}`,
    undefined,
    'GET',
  );
  return data;
}

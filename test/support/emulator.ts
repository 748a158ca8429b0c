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

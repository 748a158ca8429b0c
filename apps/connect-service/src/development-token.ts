import type { Logger as PinoLogger } from 'pino';

const RULE = '='.repeat(100);

/**
 * The development token, framed, its warning first: JWT_SECRET was generated for this run, so the token dies
 * with the process. The token stands alone on its line (indented two spaces) so it can be copied, or cut out
 * with a pattern.
 */
export function developmentTokenBlock(token: string, publicUrl: string): string {
  return [
    '',
    RULE,
    ' DEVELOPMENT ONLY: JWT_SECRET is not set, so a secret was generated for this run. The platform token below',
    ' (role platform, every scope, valid 12 h) stops working when this process stops. Never run like this in',
    ` production. Use it in Swagger UI "Authorize" (${publicUrl}/docs) or as "Authorization: Bearer <token>".`,
    '',
    `  ${token}`,
    '',
    RULE,
    '',
  ].join('\n');
}

/**
 * Waits until the log lines written so far have left (pino-pretty writes from a worker thread), so what is
 * printed next comes after them.
 */
export async function flushLogs(pino: PinoLogger): Promise<void> {
  await new Promise<void>((resolve) => {
    try {
      pino.flush(() => resolve());
    } catch {
      resolve();
    }
  });
  // The worker thread writes what it was handed on its own schedule: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
}

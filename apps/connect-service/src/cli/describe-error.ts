/**
 * What went wrong, in one line, for any thrown value: a ServiceError's details, a system error's code and
 * address, each error of an AggregateError (a refused connection to every address of a host has an empty
 * message), the cause chain; never "undefined".
 */
export function describeError(err: unknown): string {
  if (err === undefined || err === null) return 'failed without saying why (no error was given)';
  if (!(err instanceof Error)) return typeof err === 'string' ? err : JSON.stringify(err);
  const e = err as Error & {
    code?: string;
    address?: string;
    port?: number;
    details?: unknown;
    errors?: unknown[];
  };
  const parts: string[] = [];
  if (e.message) parts.push(e.message);
  else if (e.code) parts.push(`${e.code}${e.address ? ` ${e.address}${e.port ? `:${e.port}` : ''}` : ''}`);
  if (Array.isArray(e.errors) && e.errors.length)
    parts.push(`(${[...new Set(e.errors.map((inner) => describeError(inner)))].join('; ')})`);
  if (e.details) parts.push(JSON.stringify(e.details));
  if (e.cause !== undefined) parts.push(`caused by: ${describeError(e.cause)}`);
  return parts.join(' ') || e.name;
}

import { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Nest's one line per module, controller and route at boot: detail for debugging, not news at every start. */
const BOOT_DETAIL_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader']);

/**
 * Nest's LoggerService over one pino logger: `new Logger('Context')` anywhere in the app writes JSON lines with
 * `context`. An object first argument is merged into the line (`logger.warn({ inboxId }, 'message')`), an Error
 * becomes `err`. No per-request child logger: the request a line belongs to comes from the logger's mixin.
 */
export class AppLogger implements LoggerService {
  constructor(readonly pino: PinoLogger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    this.call(
      typeof context === 'string' && BOOT_DETAIL_CONTEXTS.has(context) ? 'debug' : 'info',
      message,
      params,
    );
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest passes the context (the Logger's name) last.
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length) {
      fields.context = params[params.length - 1];
      rest = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, ...(rest as []));
    } else if (message !== null && typeof message === 'object') {
      this.pino[level](Object.assign(fields, message), ...(rest as []));
    } else if (level === 'error' && isStackArgument(rest)) {
      // Nest's own exception handlers call error(message, stack, context).
      const err = new Error(String(message));
      err.stack = rest[0] as string;
      this.pino.error({ ...fields, err });
    } else {
      this.pino[level](fields, String(message), ...(rest as []));
    }
  }
}

function isStackArgument(rest: unknown[]): boolean {
  return rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0]);
}

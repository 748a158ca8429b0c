import type { TransportSingleOptions } from 'pino';

/**
 * How log lines are written: pretty-printed by pino-pretty (in a worker thread) only in development when a person
 * watches a terminal; one JSON object per line otherwise (files, pipes, collectors) and always in production and
 * tests (a test suite captures stdout to prove no secret is written).
 */
export function logTransport(nodeEnv: string, stdoutIsTty: boolean): TransportSingleOptions | undefined {
  if (nodeEnv !== 'development' || !stdoutIsTty) return undefined;
  return {
    target: 'pino-pretty',
    options: {
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      messageFormat: '{if context}[{context}] {end}{msg}',
      ignore: 'pid,hostname,service,context',
    },
  };
}

import { ConsoleLogger, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { validateEnvironment } from '@app/config';
import { stopEmbeddedPostgres } from '@app/database';
import { AppModule } from '../app.module';
import { describeError } from './describe-error';

/**
 * Runs a command-line task inside the service's modules, without HTTP and without job workers (the running
 * replicas process whatever the task enqueues): validates the environment, boots, runs, closes, and stops the
 * embedded database when it started one. `parse` reads the arguments first, so a usage error boots nothing.
 * A failure prints `<name> failed: …` (with a ServiceError's details) and exits 1; the task sets
 * `process.exitCode` for other outcomes.
 */
export function runCli<A>(
  name: string,
  parse: () => A,
  task: (app: INestApplicationContext, args: A) => Promise<void>,
  opts: { logger?: LogLevel[] } = {},
): void {
  const run = async (): Promise<void> => {
    const args = parse();
    process.env.WORKERS_ENABLED ??= 'false';
    validateEnvironment(process.env);
    const logger = new CliLogger();
    logger.setLogLevels(opts.logger ?? ['error', 'warn', 'log']);
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger,
      // A failing boot rejects here (and is printed below) instead of Nest logging it and aborting the process.
      abortOnError: false,
    });
    try {
      await task(app, args);
    } finally {
      await app.close();
    }
  };
  run()
    .then(() => stopEmbeddedPostgres())
    .catch(async (err: unknown) => {
      process.stderr.write(`${name} failed: ${describeError(err)}\n`);
      await stopEmbeddedPostgres().catch(() => undefined);
      process.exit(1);
    });
}

/** Nest's console logger, minus its report of a failed boot: runCli prints that once, as one line with the cause. */
class CliLogger extends ConsoleLogger {
  error(message: unknown, ...rest: unknown[]): void {
    if (rest[rest.length - 1] === 'ExceptionHandler') return;
    super.error(message, ...rest);
  }
}

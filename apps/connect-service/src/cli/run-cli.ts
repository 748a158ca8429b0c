import { INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { validateEnvironment } from '@app/config';
import { stopEmbeddedPostgres } from '@app/database';
import { AppModule } from '../app.module';

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
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: opts.logger ?? ['error', 'warn', 'log'],
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
      const details = (err as { details?: unknown }).details;
      process.stderr.write(
        `${name} failed: ${err instanceof Error ? err.message : String(err)}${details ? ` ${JSON.stringify(details)}` : ''}\n`,
      );
      await stopEmbeddedPostgres().catch(() => undefined);
      process.exit(1);
    });
}

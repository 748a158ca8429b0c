/*
 * Key rotation for secrets at rest, from a shell: `npm run secrets:reencrypt`.
 * Put the NEW key first in ENCRYPTION_KEY and keep the old one after it (`new:<b64>,old:<b64>`), deploy, run this
 * once; when it reports 0 failed, the old key can be removed. Safe to re-run (idempotent) and to run while the
 * service serves traffic.
 */
import { NestFactory } from '@nestjs/core';
import { validateEnvironment } from '@app/config';
import { stopEmbeddedPostgres } from '@app/database';
import { AppModule } from '../app.module';
import { SecretsReencryptService } from '../security/secrets-reencrypt.service';

async function main(): Promise<void> {
  process.env.WORKERS_ENABLED ??= 'false';
  validateEnvironment(process.env);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn', 'log'] });
  try {
    const results = await app.get(SecretsReencryptService).run();
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    if (results.some((r) => r.failed > 0)) process.exitCode = 2;
  } finally {
    await app.close();
  }
}

main()
  .then(() => stopEmbeddedPostgres())
  .catch(async (err: unknown) => {
    process.stderr.write(`Re-encryption failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopEmbeddedPostgres().catch(() => undefined);
    process.exit(1);
  });

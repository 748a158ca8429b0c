/*
 * Key rotation for secrets at rest, from a shell: `npm run secrets:reencrypt`.
 * Put the NEW key first in ENCRYPTION_KEY and keep the old one after it (`new:<b64>,old:<b64>`), deploy, run this
 * once; when it reports 0 failed, the old key can be removed. Safe to re-run (idempotent) and to run while the
 * service serves traffic.
 */
import { SecretsReencryptService } from '../security/secrets-reencrypt.service';
import { runCli } from './run-cli';

runCli(
  'Re-encryption',
  () => undefined,
  async (app) => {
    const results = await app.get(SecretsReencryptService).run();
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    if (results.some((r) => r.failed > 0)) process.exitCode = 2;
  },
);

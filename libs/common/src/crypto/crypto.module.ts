import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Logger, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { securityConfig, serviceConfig } from '@app/config';
import { parseEncryptionKeys, SecretBox } from './secret-box';

const DEV_KEY_FILE = './.data/encryption.key';

/**
 * Provides the SecretBox from ENCRYPTION_KEY. In development without it, a key is generated once and kept in
 * ./.data/ (beside the embedded database, so stored tokens stay readable across restarts) with a loud warning.
 */
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [securityConfig.KEY, serviceConfig.KEY],
      useFactory: (sec: ConfigType<typeof securityConfig>, svc: ConfigType<typeof serviceConfig>) => {
        if (sec.encryptionKeys.length) return new SecretBox(parseEncryptionKeys(sec.encryptionKeys));
        if (svc.nodeEnv === 'production') throw new Error('NODE_ENV=production requires ENCRYPTION_KEY');
        const logger = new Logger('Encryption');
        if (svc.nodeEnv === 'test')
          return new SecretBox(parseEncryptionKeys([`test:${randomBytes(32).toString('base64')}`]));
        if (!existsSync(DEV_KEY_FILE)) {
          mkdirSync(dirname(DEV_KEY_FILE), { recursive: true });
          writeFileSync(DEV_KEY_FILE, `dev:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
        }
        logger.warn(
          `ENCRYPTION_KEY is not set: using a GENERATED development key from ${DEV_KEY_FILE}. Never in production.`,
        );
        return new SecretBox(parseEncryptionKeys([readFileSync(DEV_KEY_FILE, 'utf8').trim()]));
      },
    },
  ],
  exports: [SecretBox],
})
export class CryptoModule {}

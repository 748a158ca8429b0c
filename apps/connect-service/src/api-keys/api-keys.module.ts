import { Module } from '@nestjs/common';
import { ApiKeyVerifier } from '@app/auth';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

/** Binds ApiKeyVerifier to the stored keys: the AuthenticationGuard finds the binding app-wide. */
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, { provide: ApiKeyVerifier, useExisting: ApiKeysService }],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}

import { Module } from '@nestjs/common';
import { ApiKeyVerifier } from '@app/auth';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

/** Binds ApiKeyVerifier to the stored keys: the AuthenticationGuard finds the binding app-wide. */
@Module({
  imports: [DatabaseModule, AuditModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiKeysRepository, { provide: ApiKeyVerifier, useExisting: ApiKeysService }],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}

import { Module } from '@nestjs/common';
import { TokenRevocations } from '@app/auth';
import { DatabaseModule } from '@app/database';
import { AuditModule } from '../audit/audit.module';
import { AuthRevocationsRepository } from './auth-revocations.repository';
import { AuthSessionsController } from './auth-sessions.controller';
import { AuthSessionsService } from './auth-sessions.service';

/** Binds TokenRevocations: the AuthenticationGuard finds it app-wide and asks it on every JWT request. */
@Module({
  imports: [DatabaseModule, AuditModule],
  controllers: [AuthSessionsController],
  providers: [
    AuthRevocationsRepository,
    AuthSessionsService,
    { provide: TokenRevocations, useExisting: AuthSessionsService },
  ],
})
export class AuthSessionsModule {}

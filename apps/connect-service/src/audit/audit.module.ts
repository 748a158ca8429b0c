import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { AuditInterceptor } from './audit.interceptor';

/**
 * The audit log: features that record security-relevant actions import AuditModule for AuditLogService and for the
 * AuditInterceptor their `@Audit` routes use.
 */
@Module({
  imports: [DatabaseModule],
  controllers: [AuditLogController],
  providers: [AuditLogService, AuditLogRepository, AuditInterceptor],
  exports: [AuditLogService, AuditLogRepository, AuditInterceptor],
})
export class AuditModule {}

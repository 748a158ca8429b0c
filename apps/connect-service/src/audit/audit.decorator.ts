import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { AuditAction } from './audit-actions';
import { AUDIT_KEY, AuditOptions } from './audit-metadata';
import { AuditInterceptor } from './audit.interceptor';

export { AUDIT_KEY } from './audit-metadata';
export type { AuditOptions } from './audit-metadata';

/**
 * Records the route's outcome in the audit log: success with the result's `id` (or the path's `:id` /
 * `:tenantId`) as target, or failure with the ServiceError code. Written by AuditInterceptor after the outcome
 * is decided, never on the response path. Services with a transaction may record in it instead
 * (`AuditLogService.record(input, manager)`, or the success row itself in their own statement with
 * `AuditLogService.successRowSql`, after which the interceptor writes none).
 */
export const Audit = (action: AuditAction, targetType: string): MethodDecorator =>
  // On the audited routes only: an app-wide interceptor would wrap every request (the hot reads too) in rxjs.
  applyDecorators(
    SetMetadata(AUDIT_KEY, { action, targetType } satisfies AuditOptions),
    UseInterceptors(AuditInterceptor),
  );

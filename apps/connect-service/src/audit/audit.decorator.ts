import { SetMetadata } from '@nestjs/common';
import { AuditAction } from './audit-actions';

export const AUDIT_KEY = 'audit:action';

export interface AuditOptions {
  action: AuditAction;
  /** What the action is on: `connect_account`, `payment_route`, ... */
  targetType: string;
}

/**
 * Records the route's outcome in the audit log: success with the result's `id` (or the path's `:id` /
 * `:tenantId`) as target, or failure with the ServiceError code. Written by AuditInterceptor after the outcome
 * is decided, never on the response path. Services with a transaction may record in it instead
 * (`AuditLogService.record(input, manager)`, or the success row itself in their own statement with
 * `AuditLogService.successRowSql`, after which the interceptor writes none).
 */
export const Audit = (action: AuditAction, targetType: string): MethodDecorator =>
  SetMetadata(AUDIT_KEY, { action, targetType } satisfies AuditOptions);

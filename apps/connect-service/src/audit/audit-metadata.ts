/** What `@Audit` records, read by AuditInterceptor. */
import { AuditAction } from './audit-actions';

export const AUDIT_KEY = 'audit:action';

export interface AuditOptions {
  action: AuditAction;
  /** What the action is on: `connect_account`, `payment_route`, ... */
  targetType: string;
}

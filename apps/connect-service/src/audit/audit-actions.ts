/** The security-relevant actions the audit log records (docs/operations.md, "Security"). */
export const AUDIT_ACTIONS = [
  'account.connect',
  'account.update',
  'account.disconnect',
  'payment.create',
  'payment.refund',
  'reconciliation.run',
  'reconciliation.resolve',
  'routing.rule_set.create',
  'routing.activate',
  'routing.rollback',
  'api_key.create',
  'api_key.rotate',
  'api_key.revoke',
  'auth.authentication_failed',
  'auth.authorization_failed',
  'auth.revocation.create',
  'auth.revoked_token_refused',
  'webhook.signature_failed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditOutcome = 'success' | 'failure';

export type AuditActorType = 'user' | 'api_key' | 'anonymous' | 'stripe' | 'system';

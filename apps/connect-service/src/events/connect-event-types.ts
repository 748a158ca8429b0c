/**
 * Every ConnectEvent type this service emits to the platform, in one place.
 * docs/api.md lists the same table; subscriptions accept these names or '*'.
 */
export const CONNECT_EVENT_TYPES = [
  'connect.account.connected',
  'connect.account.updated',
  'connect.account.disconnected',
  'connect.account.requirements_due',
  'connect.account.requirements_reminder',
  'connect.account.restricted',
  'connect.account.requirements_cleared',
  'connect.payment.routed',
  'connect.payment.completed',
  'connect.payment.failed',
  'connect.refund.completed',
  'connect.refund.failed',
  'connect.subscription.created',
  'connect.subscription.canceled',
  'connect.dispute.created',
  'connect.dispute.updated',
  'connect.dispute.closed',
  'connect.dispute.evidence_due',
  'connect.dispute.recovery_failed',
  'connect.payout.created',
  'connect.payout.paid',
  'connect.payout.failed',
  'connect.payout.canceled',
  'connect.payout.reconciled',
  'connect.webhook.received',
  'connect.reconciliation.completed',
  'connect.reconciliation.drift_detected',
  'connect.routing.activated',
] as const;

export type ConnectEventType = (typeof CONNECT_EVENT_TYPES)[number];

export const CONNECT_EVENT_TYPE_DESCRIPTIONS: Record<ConnectEventType, string> = {
  'connect.account.connected':
    "A tenant's Stripe account was connected (OAuth or Account Link onboarding finished).",
  'connect.account.updated': "A connected account's status, capabilities or requirements changed.",
  'connect.account.disconnected':
    'A connected account was deauthorized (by the tenant, the platform or Stripe).',
  'connect.account.requirements_due':
    'An account gained requirements: fields, deadline, what they restrict and the remedy (a link or an embedded session).',
  'connect.account.requirements_reminder':
    'A requirement deadline is REQUIREMENTS_REMINDER_OFFSETS away; sent once per requirement, deadline and offset.',
  'connect.account.restricted': "A capability stopped being active, with Stripe's reason.",
  'connect.account.requirements_cleared': 'Nothing is due on the account any more.',
  'connect.payment.routed':
    'A payment was routed to a tenant: the PaymentIntent exists and the fee is fixed.',
  'connect.payment.completed': 'A routed payment succeeded.',
  'connect.payment.failed': 'A routed payment failed or was canceled.',
  'connect.refund.completed': 'A refund of a routed payment succeeded.',
  'connect.refund.failed': 'A refund of a routed payment failed.',
  'connect.subscription.created': 'A subscription was created on a connected account.',
  'connect.subscription.canceled': 'A subscription on a connected account was canceled.',
  'connect.dispute.created': 'A customer disputed a charge of a connected account.',
  'connect.dispute.updated':
    'A dispute changed (status, evidence, deadline, funds moved or recovered): status, evidence_due_by, liable, recovery.',
  'connect.dispute.closed': 'A dispute was won, lost or accepted (inquiries: warning_closed).',
  'connect.dispute.evidence_due': "A dispute's evidence deadline is near and no evidence was submitted.",
  'connect.dispute.recovery_failed':
    "Stripe refused to reverse the tenant's transfer for a platform-liable dispute; `recovery.failure_reason` says why.",
  'connect.payout.created': "A payout of the tenant's account was created (automatic, manual or instant).",
  'connect.payout.paid': 'A payout reached the bank.',
  'connect.payout.failed':
    'A payout failed: failure_code, failure_message (the money is back on the balance).',
  'connect.payout.canceled': 'A pending payout was canceled.',
  'connect.payout.reconciled': "A payout's reconciliation completed: its transactions can be listed.",
  'connect.webhook.received': 'A Stripe webhook concerning the tenant was received and processed.',
  'connect.reconciliation.completed':
    "A reconciliation run finished the tenant's share: totals by category, items healed, Stripe calls.",
  'connect.reconciliation.drift_detected':
    'A reconciliation run found differences it did not heal: open item counts by category.',
  'connect.routing.activated':
    'A routing rule set became active (activation or rollback); tenant_id `_platform`, platform-wide subscriptions only.',
};

/** Subscriptions may name this instead of a list of types. */
export const ALL_EVENT_TYPES_WILDCARD = '*';

export function isConnectEventType(value: unknown): value is ConnectEventType {
  return typeof value === 'string' && (CONNECT_EVENT_TYPES as readonly string[]).includes(value);
}

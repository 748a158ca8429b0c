import type { AccountConfiguration, RequirementEntry } from '@app/database';
import type { StripeAccount, StripeV2Account } from '@app/stripe-gateway';

const DUE_ORDER: Record<RequirementEntry['due'], number> = {
  past_due: 0,
  currently_due: 1,
  eventually_due: 2,
};

function sorted(entries: RequirementEntry[]): RequirementEntry[] {
  return entries.sort((a, b) => DUE_ORDER[a.due] - DUE_ORDER[b.due] || a.field.localeCompare(b.field));
}

/**
 * v2 entries (https://docs.stripe.com/api/v2/core/accounts/object) in the service's shape. Stripe gives one deadline
 * for the account (`summary.minimum_deadline.time`): it applies to every entry that is due now or past due.
 */
export function entriesFromV2(account: StripeV2Account): RequirementEntry[] {
  const req = account.requirements;
  const deadline = req?.summary?.minimum_deadline?.time ?? null;
  return sorted(
    (req?.entries ?? []).map((e) => {
      const due = e.minimum_deadline.status;
      return {
        field: e.description,
        due,
        deadline: due === 'eventually_due' || !deadline ? null : new Date(deadline).toISOString(),
        awaiting_action_from: e.awaiting_action_from,
        restricts: (e.impact?.restricts_capabilities ?? []).map((r) => `${r.configuration}.${r.capability}`),
        errors: (e.errors ?? []).map((x) => ({ code: String(x.code), description: x.description })),
      };
    }),
  );
}

/**
 * v1 arrays (https://docs.stripe.com/api/accounts/object#account_object-requirements) in the same shape:
 * `current_deadline` is the deadline of what is currently due; fields only being verified by Stripe are left out.
 */
export function entriesFromV1(account: StripeAccount): RequirementEntry[] {
  const req = account.requirements;
  if (!req) return [];
  const deadline = req.current_deadline ? new Date(req.current_deadline * 1000).toISOString() : null;
  const errorsOf = (field: string) =>
    (req.errors ?? [])
      .filter((e) => e.requirement === field)
      .map((e) => ({ code: String(e.code), description: e.reason }));
  const restricts = req.disabled_reason ? Object.keys(account.capabilities ?? {}) : [];
  const seen = new Set<string>();
  const out: RequirementEntry[] = [];
  const add = (fields: string[] | null | undefined, due: RequirementEntry['due']) => {
    for (const field of fields ?? []) {
      if (seen.has(field)) continue;
      seen.add(field);
      out.push({
        field,
        due,
        deadline: due === 'eventually_due' ? null : deadline,
        awaiting_action_from: 'user',
        restricts: due === 'past_due' ? restricts : [],
        errors: errorsOf(field),
      });
    }
  };
  add(req.past_due, 'past_due');
  add(req.currently_due, 'currently_due');
  add(req.eventually_due, 'eventually_due');
  return sorted(out);
}

/** The nearest deadline of the entries, or null. */
export function nextDeadline(entries: RequirementEntry[]): Date | null {
  const times = entries.filter((e) => e.deadline).map((e) => Date.parse(e.deadline!));
  return times.length ? new Date(Math.min(...times)) : null;
}

/** Entries the account holder must act on now (currently or past due). */
export function dueEntries(entries: RequirementEntry[] | null | undefined): RequirementEntry[] {
  return (entries ?? []).filter((e) => e.due !== 'eventually_due');
}

/** v2 configurations as kept on the row: applied or not, and each capability's status (dotted names for nested ones). */
export function configurationsFromV2(account: StripeV2Account): Record<string, AccountConfiguration> {
  const out: Record<string, AccountConfiguration> = {};
  for (const name of ['merchant', 'recipient', 'customer'] as const) {
    const config = account.configuration?.[name] as
      { applied?: boolean; capabilities?: Record<string, unknown> } | undefined | null;
    if (!config) continue;
    const capabilities: Record<string, string> = {};
    flattenCapabilities(config.capabilities ?? {}, '', capabilities);
    out[name] = { applied: config.applied !== false, capabilities };
  }
  return out;
}

function flattenCapabilities(
  value: Record<string, unknown>,
  prefix: string,
  out: Record<string, string>,
): void {
  for (const [key, v] of Object.entries(value)) {
    if (!v || typeof v !== 'object') continue;
    const status = (v as { status?: unknown }).status;
    if (typeof status === 'string') out[`${prefix}${key}`] = status;
    else flattenCapabilities(v as Record<string, unknown>, `${prefix}${key}.`, out);
  }
}

/** v1 `controller` in the v2 responsibilities' names (fees payer `account` is Stripe collecting its fees). */
export function responsibilitiesFromV1(account: StripeAccount): Record<string, string> | null {
  const c = account.controller;
  if (!c) return null;
  const out: Record<string, string> = {};
  if (c.fees?.payer) out.fees_collector = c.fees.payer === 'account' ? 'stripe' : c.fees.payer;
  if (c.losses?.payments) out.losses_collector = c.losses.payments;
  if (c.requirement_collection) out.requirements_collector = c.requirement_collection;
  return out;
}

/** What a v1 account adds to the row beyond AccountState: its requirements in the common shape, and its controller. */
export function v1AccountExtras(account: StripeAccount) {
  const entries = entriesFromV1(account);
  const responsibilities = responsibilitiesFromV1(account);
  const dashboard = account.controller?.stripe_dashboard?.type ?? null;
  return {
    requirement_entries: entries,
    next_deadline: nextDeadline(entries),
    // A v2 account read through v1 keeps what its v2 read set.
    ...(responsibilities ? { responsibilities } : {}),
    ...(dashboard ? { dashboard } : {}),
  };
}

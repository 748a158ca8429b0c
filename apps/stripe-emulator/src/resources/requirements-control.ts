import { EmulatorState } from '../context';
import { StripeApiError } from '../errors';
import { StripeObject } from '../store';
import { emitVerificationEvents } from './accounts.resource';

/**
 * `POST /_emulator/accounts/:id/requirements` `{"currently_due": [field], "past_due": [field], "deadline": <unix>}`:
 * sets the requirements both views show. Past-due fields restrict what Stripe restricts (every capability
 * inactive, charges and payouts disabled, https://docs.stripe.com/connect/handling-api-verification); clearing
 * them gives back what the restriction took. Emits account.updated (and capability.updated per change), which
 * brings the v2 events (`v2.core.account[requirements].updated`, capability status changes) with it.
 */
export interface RequirementsBody {
  currently_due: string[];
  past_due: string[];
  deadline: number | null;
}

function bad(message: string): StripeApiError {
  return new StripeApiError(400, { error: { type: 'invalid_request_error', message } });
}

export function parseRequirementsBody(body: Record<string, unknown>): RequirementsBody {
  for (const key of Object.keys(body)) {
    if (!['currently_due', 'past_due', 'deadline'].includes(key)) throw bad(`unknown field: ${key}`);
  }
  const list = (key: string): string[] => {
    const v = body[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((f) => typeof f !== 'string' || f === ''))
      throw bad(`${key} must be a list of requirement names`);
    return v as string[];
  };
  const deadline = body.deadline;
  if (
    deadline !== undefined &&
    deadline !== null &&
    !(Number.isInteger(deadline) && (deadline as number) > 0)
  )
    throw bad('deadline must be a unix timestamp in seconds');
  return {
    currently_due: list('currently_due'),
    past_due: list('past_due'),
    deadline: (deadline as number) ?? null,
  };
}

const FIELDS = ['requirements', 'capabilities', 'charges_enabled', 'payouts_enabled'];

export function setRequirements(
  emu: EmulatorState,
  account: StripeObject,
  body: RequirementsBody,
): StripeObject {
  const before = structuredClone(Object.fromEntries(FIELDS.map((f) => [f, account[f]])));
  const caps = account.capabilities as Record<string, string>;
  const wasRestricted =
    (account.requirements as Record<string, unknown>).disabled_reason === 'requirements.past_due';
  const due = [...new Set([...body.currently_due, ...body.past_due])];
  account.requirements = {
    alternatives: [],
    current_deadline: body.deadline,
    currently_due: due,
    disabled_reason: body.past_due.length > 0 ? 'requirements.past_due' : null,
    errors: [],
    eventually_due: [...due],
    past_due: [...body.past_due],
    pending_verification: [],
  };
  if (body.past_due.length > 0) {
    // Keep what the first restriction took; a new one (after the account recovered) takes a fresh copy.
    if (!wasRestricted || !emu.restrictions.has(account.id)) {
      emu.restrictions.set(account.id, {
        capabilities: { ...caps },
        charges_enabled: account.charges_enabled,
        payouts_enabled: account.payouts_enabled,
      });
    }
    for (const c of Object.keys(caps)) caps[c] = 'inactive';
    Object.assign(account, { charges_enabled: false, payouts_enabled: false });
  } else {
    const saved = emu.restrictions.get(account.id);
    emu.restrictions.delete(account.id);
    if (saved && wasRestricted) {
      for (const c of Object.keys(caps)) caps[c] = saved.capabilities[c] ?? caps[c];
      Object.assign(account, {
        charges_enabled: saved.charges_enabled,
        payouts_enabled: saved.payouts_enabled,
      });
    }
  }
  const previous: Record<string, unknown> = {};
  for (const f of FIELDS)
    if (JSON.stringify(before[f]) !== JSON.stringify(account[f])) previous[f] = before[f];
  const beforeCaps = before.capabilities as Record<string, string>;
  const changedCapabilities = Object.keys(caps).filter((c) => beforeCaps[c] !== caps[c]);
  emitVerificationEvents(emu, account, { previous, changedCapabilities }, null);
  return account;
}

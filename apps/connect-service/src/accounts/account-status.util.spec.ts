import { ConnectAccountStatus } from '@app/database';
import type { StripeAccount } from '@app/stripe-gateway';
import { accountStateChanged, activeCapabilities, mapAccountStatus } from './account-status.util';

const REQUIRED = ['card_payments', 'transfers'];

interface Shape {
  charges?: boolean;
  payouts?: boolean;
  submitted?: boolean;
  caps?: Record<string, string>;
  reason?: string | null;
  currentlyDue?: string[];
  pastDue?: string[];
  pendingVerification?: string[];
}

function account(s: Shape): StripeAccount {
  return {
    id: 'acct_test',
    object: 'account',
    charges_enabled: s.charges ?? false,
    payouts_enabled: s.payouts ?? false,
    details_submitted: s.submitted ?? true,
    capabilities: s.caps ?? { card_payments: 'inactive', transfers: 'inactive' },
    livemode: false,
    requirements: {
      alternatives: [],
      current_deadline: 1_900_000_000,
      currently_due: s.currentlyDue ?? [],
      disabled_reason: (s.reason ?? null) as never,
      errors: [],
      eventually_due: ['external_account'],
      past_due: s.pastDue ?? [],
      pending_verification: s.pendingVerification ?? [],
    },
  } as unknown as StripeAccount;
}

const ACTIVE_CAPS = { card_payments: 'active', transfers: 'active' };
const enabled: Shape = { charges: true, payouts: true, caps: ACTIVE_CAPS };

describe('mapAccountStatus', () => {
  const cases: [string, Shape, ConnectAccountStatus][] = [
    // rejected.* → disabled, whatever else the account says
    ['rejected.fraud', { ...enabled, reason: 'rejected.fraud' }, ConnectAccountStatus.Disabled],
    ['rejected.terms_of_service', { reason: 'rejected.terms_of_service' }, ConnectAccountStatus.Disabled],
    ['rejected.listed', { reason: 'rejected.listed' }, ConnectAccountStatus.Disabled],
    ['rejected.other', { reason: 'rejected.other', submitted: false }, ConnectAccountStatus.Disabled],
    // fully enabled → active
    ['no disabled_reason, everything enabled', enabled, ConnectAccountStatus.Active],
    ['enabled with eventually_due only', { ...enabled, reason: null }, ConnectAccountStatus.Active],
    // not submitted → pending (a fresh Express account already reports requirements.past_due)
    [
      'fresh account: requirements.past_due, not submitted',
      {
        submitted: false,
        reason: 'requirements.past_due',
        pastDue: ['tos_acceptance.date'],
        currentlyDue: ['tos_acceptance.date'],
      },
      ConnectAccountStatus.Pending,
    ],
    [
      'submitted, pending_verification',
      {
        reason: 'requirements.pending_verification',
        pendingVerification: ['individual.verification.document'],
        caps: { card_payments: 'pending', transfers: 'pending' },
      },
      ConnectAccountStatus.Pending,
    ],
    [
      'submitted, no reason yet, capabilities pending',
      { caps: { card_payments: 'pending', transfers: 'pending' } },
      ConnectAccountStatus.Pending,
    ],
    // everything else → restricted
    [
      'requirements.past_due after submission',
      { reason: 'requirements.past_due', pastDue: ['external_account'] },
      ConnectAccountStatus.Restricted,
    ],
    [
      'pending_verification but something past due',
      { reason: 'requirements.pending_verification', pastDue: ['company.tax_id'] },
      ConnectAccountStatus.Restricted,
    ],
    ['under_review', { reason: 'under_review' }, ConnectAccountStatus.Restricted],
    ['listed', { reason: 'listed' }, ConnectAccountStatus.Restricted],
    ['platform_paused', { reason: 'platform_paused' }, ConnectAccountStatus.Restricted],
    [
      'action_required.requested_capabilities',
      { reason: 'action_required.requested_capabilities' },
      ConnectAccountStatus.Restricted,
    ],
    ['other', { reason: 'other' }, ConnectAccountStatus.Restricted],
    [
      'charges on, payouts paused',
      { charges: true, payouts: false, caps: ACTIVE_CAPS },
      ConnectAccountStatus.Restricted,
    ],
    [
      'a required capability inactive',
      { charges: true, payouts: true, caps: { card_payments: 'active', transfers: 'inactive' } },
      ConnectAccountStatus.Restricted,
    ],
    [
      'a required capability missing',
      { charges: true, payouts: true, caps: { card_payments: 'active' } },
      ConnectAccountStatus.Restricted,
    ],
    ['currently_due with no reason', { currentlyDue: ['external_account'] }, ConnectAccountStatus.Restricted],
  ];

  it.each(cases)('%s', (_name, shape, expected) => {
    expect(mapAccountStatus(account(shape), { requiredCapabilities: REQUIRED }).status).toBe(expected);
  });

  it('lost access (deauthorized) is disabled even when Stripe said active', () => {
    expect(
      mapAccountStatus(account(enabled), { requiredCapabilities: REQUIRED, lostAccess: true }).status,
    ).toBe(ConnectAccountStatus.Disabled);
  });

  it('honours the configured required capabilities', () => {
    const onlyCards = account({
      charges: true,
      payouts: true,
      caps: { card_payments: 'active', transfers: 'inactive' },
    });
    expect(mapAccountStatus(onlyCards, { requiredCapabilities: ['card_payments'] }).status).toBe(
      ConnectAccountStatus.Active,
    );
  });

  it('keeps requirements visible, with the deadline as ISO-8601', () => {
    const state = mapAccountStatus(
      account({ reason: 'requirements.past_due', pastDue: ['a'], currentlyDue: ['a', 'b'] }),
      {
        requiredCapabilities: REQUIRED,
      },
    );
    expect(state.requirements).toEqual({
      currently_due: ['a', 'b'],
      eventually_due: ['external_account'],
      past_due: ['a'],
      pending_verification: [],
      current_deadline: new Date(1_900_000_000 * 1000).toISOString(),
      disabled_reason: 'requirements.past_due',
    });
  });
});

describe('accountStateChanged', () => {
  const base = mapAccountStatus(account(enabled), { requiredCapabilities: REQUIRED });
  it('ignores key order (jsonb round trips)', () => {
    const reordered = { ...base, capabilities: { transfers: 'active', card_payments: 'active' } };
    expect(accountStateChanged(base, reordered)).toBe(false);
  });
  it('sees a status or requirements change', () => {
    expect(accountStateChanged(base, { ...base, status: ConnectAccountStatus.Restricted })).toBe(true);
    expect(
      accountStateChanged(base, { ...base, requirements: { ...base.requirements, currently_due: ['x'] } }),
    ).toBe(true);
  });
});

describe('activeCapabilities', () => {
  it('lists the active capabilities only, sorted', () => {
    expect(
      activeCapabilities({
        transfers: 'active',
        card_payments: 'active',
        us_bank_account_ach_payments: 'pending',
      }),
    ).toEqual(['card_payments', 'transfers']);
    expect(activeCapabilities({ card_payments: 'inactive', transfers: 'unrequested' })).toEqual([]);
    expect(activeCapabilities(null)).toEqual([]);
  });
});

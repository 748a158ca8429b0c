import { grantComponents } from './account-sessions.policy';

describe('grantComponents', () => {
  it('gives a viewer read-only payments and refuses what changes money', () => {
    const g = grantComponents('viewer', { payments: { features: { refund_management: true } } }, 'stripe');
    expect(g.components.payments.features).toMatchObject({
      refund_management: false,
      capture_payments: false,
      dispute_management: false,
    });
    expect(g.refused).toEqual([
      { component: 'payments', feature: 'refund_management', reason: 'needs the operator role' },
    ]);
  });

  it('keeps instant payouts and schedule edits for admins', () => {
    const asked = { payouts: { features: { instant_payouts: true, edit_payout_schedule: true } } };
    expect(grantComponents('admin', asked, 'stripe').components.payouts.features).toEqual({
      instant_payouts: true,
      edit_payout_schedule: true,
    });
    const op = grantComponents('operator', asked, 'application');
    expect(op.components.payouts.features).toMatchObject({
      instant_payouts: false,
      edit_payout_schedule: false,
    });
    expect(op.components.payouts.features.external_account_collection).toBe(false);
  });

  it('refuses account components below admin and responsibility-tied features where Stripe collects', () => {
    const g = grantComponents(
      'admin',
      { account_onboarding: { features: { disable_stripe_user_authentication: true } } },
      'stripe',
    );
    expect(g.components.account_onboarding.features).toEqual({});
    expect(g.refused[0]).toMatchObject({ feature: 'disable_stripe_user_authentication' });
    expect(grantComponents('operator', { account_onboarding: {} }, 'stripe').refused[0]).toMatchObject({
      component: 'account_onboarding',
      reason: 'needs the admin role',
    });
  });
});

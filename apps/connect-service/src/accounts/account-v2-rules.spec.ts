import { configurationParams, missingChargeCapability, v2AccountViolations } from './account-v2-rules';

const base = {
  configurations: ['merchant' as const],
  capabilities: [],
  dashboard: 'express' as const,
  responsibilities: { fees_collector: 'stripe' as const, losses_collector: 'stripe' as const },
};

describe('v2AccountViolations', () => {
  it('accepts the platform default shape', () => {
    expect(v2AccountViolations(base)).toEqual([]);
  });

  it('refuses application losses with Stripe-collected fees', () => {
    const v = v2AccountViolations({
      ...base,
      responsibilities: { fees_collector: 'stripe', losses_collector: 'application' },
    });
    expect(v.map((x) => x.rule)).toEqual(['losses_need_application_fees']);
  });

  it('refuses a capability whose configuration is not requested, and unknown names', () => {
    const v = v2AccountViolations({ ...base, capabilities: ['stripe_balance.stripe_transfers', 'teleport'] });
    expect(v.map((x) => x.rule)).toEqual(['capability_needs_configuration', 'unknown_capability']);
  });

  it('ties application_express fees to the express dashboard', () => {
    const v = v2AccountViolations({
      ...base,
      dashboard: 'full',
      responsibilities: { fees_collector: 'application_express', losses_collector: 'application' },
    });
    expect(v.map((x) => x.rule)).toEqual(['application_express_needs_express_dashboard']);
  });
});

describe('configurationParams', () => {
  it('nests dotted capabilities and fills defaults per configuration', () => {
    expect(configurationParams({ configurations: ['merchant', 'recipient'], capabilities: [] })).toEqual({
      merchant: { capabilities: { card_payments: { requested: true } } },
      recipient: { capabilities: { stripe_balance: { stripe_transfers: { requested: true } } } },
    });
  });
});

describe('missingChargeCapability', () => {
  const configs = {
    merchant: { applied: true, capabilities: { card_payments: 'active' } },
    recipient: { applied: true, capabilities: { 'stripe_balance.stripe_transfers': 'pending' } },
  };
  it('direct charges need merchant card_payments', () => {
    expect(missingChargeCapability(configs, 'direct', false)).toBeNull();
  });
  it('destination charges need recipient transfers unless on_behalf_of', () => {
    expect(missingChargeCapability(configs, 'destination', false)).toBe(
      'recipient.stripe_balance.stripe_transfers',
    );
    expect(missingChargeCapability(configs, 'destination', true)).toBeNull();
  });
});

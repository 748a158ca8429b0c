import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

/** Account Sessions (embedded components) through the real SDK: validation, defaults, single-use secrets. */
describe('Stripe emulator: Account Sessions', () => {
  const h = useEmulator('sk_test_account_sessions');
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  const refusal = (params: Stripe.AccountSessionCreateParams) =>
    stripe.accountSessions.create(params).then(
      () => null,
      (e: Stripe.errors.StripeError) => e,
    );

  it('answers every component with features filled by Stripe’s defaults', async () => {
    const acct = await h.verifiedAccount(); // express: Stripe collects requirements, the platform is liable
    const session = await stripe.accountSessions.create({
      account: acct,
      components: {
        payments: { enabled: true, features: { refund_management: false } },
        payouts: { enabled: true },
        notification_banner: { enabled: true },
      },
    });
    expect(session).toMatchObject({ object: 'account_session', account: acct, livemode: false });
    expect(session.client_secret).toMatch(/^accs_secret__/);
    expect(session.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(1700);
    expect(Object.keys(session.components)).toHaveLength(25);
    expect(session.components.payments).toEqual({
      enabled: true,
      features: {
        capture_payments: true,
        destination_on_behalf_of_charge_management: false,
        dispute_management: true,
        refund_management: false,
        smart_disputes_management: true,
      },
    });
    expect(session.components.payouts.features).toEqual({
      disable_stripe_user_authentication: false,
      edit_payout_schedule: false,
      external_account_collection: true,
      instant_payouts: false,
      standard_payouts: false,
    });
    expect(session.components.documents).toEqual({ enabled: false, features: {} });
  });

  it('refuses unknown components and features, a missing `enabled`, and features the account does not allow', async () => {
    const acct = await h.verifiedAccount();
    expect(await refusal({ account: acct, components: { nope: { enabled: true } } as never })).toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'components[nope]',
    });
    expect(
      await refusal({
        account: acct,
        components: { payments: { enabled: true, features: { instant_payouts: true } as never } },
      }),
    ).toMatchObject({ code: 'parameter_unknown', param: 'components[payments][features][instant_payouts]' });
    expect(
      await refusal({
        account: acct,
        components: { payments: { features: { refund_management: true } } as never },
      }),
    ).toMatchObject({
      code: 'parameter_missing',
      param: 'components[payments][enabled]',
    });
    expect(
      await refusal({
        account: acct,
        components: {
          account_onboarding: { enabled: true, features: { disable_stripe_user_authentication: true } },
        },
      }),
    ).toMatchObject({
      statusCode: 400,
      param: 'components[account_onboarding][features][disable_stripe_user_authentication]',
    });
    expect(
      await refusal({ account: 'acct_missing', components: { payments: { enabled: true } } }),
    ).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'account' });
  });

  it('lets the platform that collects requirements turn Stripe authentication off (v2 account, dashboard none)', async () => {
    const account = await stripe.v2.core.accounts.create({
      dashboard: 'none',
      defaults: { responsibilities: { fees_collector: 'application', losses_collector: 'application' } },
      configuration: { merchant: { capabilities: { card_payments: { requested: true } } } },
    });
    const session = await stripe.accountSessions.create({
      account: account.id,
      components: {
        account_onboarding: { enabled: true, features: { external_account_collection: false } },
      },
    });
    expect(session.components.account_onboarding.features).toEqual({
      disable_stripe_user_authentication: true,
      external_account_collection: false,
    });
  });

  it('a client_secret works once and not after it expires', async () => {
    const acct = await h.verifiedAccount();
    const create = () =>
      stripe.accountSessions.create({ account: acct, components: { payments: { enabled: true } } });
    const { client_secret } = await create();
    const first = await h.control('POST', '/account_sessions/claim', { client_secret });
    expect(first).toMatchObject({ status: 200, account: acct, components: { payments: { enabled: true } } });
    expect(await h.control('POST', '/account_sessions/claim', { client_secret })).toMatchObject({
      status: 410,
      error: { code: 'account_session_used' },
    });
    await h.control('POST', '/settings', { account_session_ttl_seconds: 0 });
    const expiring = await create();
    expect(expiring.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(
      await h.control('POST', '/account_sessions/claim', { client_secret: expiring.client_secret }),
    ).toMatchObject({ status: 410, error: { code: 'account_session_expired' } });
    expect(
      await h.control('POST', '/account_sessions/claim', { client_secret: 'accs_secret__x' }),
    ).toMatchObject({
      status: 404,
    });
  });
});

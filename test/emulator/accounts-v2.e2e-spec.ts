import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

/** Accounts v2 and v2 Account Links through the real SDK (JSON bodies, `include`, v2 lists and errors). */
describe('Stripe emulator: Accounts v2', () => {
  const h = useEmulator('sk_test_accounts_v2');
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  const merchantAndRecipient = (): Stripe.V2.Core.AccountCreateParams => ({
    contact_email: 'owner@example.com',
    display_name: 'Tenant One',
    dashboard: 'express',
    identity: { country: 'us', entity_type: 'company' },
    defaults: {
      currency: 'usd',
      responsibilities: { fees_collector: 'application', losses_collector: 'application' },
    },
    configuration: {
      merchant: { capabilities: { card_payments: { requested: true } } },
      recipient: { capabilities: { stripe_balance: { stripe_transfers: { requested: true } } } },
    },
    metadata: { tenant: 't1' },
  });

  async function onboard(id: string): Promise<void> {
    const link = await stripe.v2.core.accountLinks.create({
      account: id,
      use_case: {
        type: 'account_onboarding',
        account_onboarding: {
          refresh_url: 'https://platform.test/refresh',
          return_url: 'https://platform.test/done',
        },
      },
    });
    const res = await fetch(link.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://platform.test/done');
  }

  it('creates an account with configurations, capabilities and responsibilities; sections only when included', async () => {
    const created = await stripe.v2.core.accounts.create({
      ...merchantAndRecipient(),
      include: ['configuration.merchant', 'configuration.recipient', 'defaults', 'identity', 'requirements'],
    });
    expect(created).toMatchObject({
      object: 'v2.core.account',
      applied_configurations: ['merchant', 'recipient'],
      closed: false,
      dashboard: 'express',
      display_name: 'Tenant One',
      contact_email: 'owner@example.com',
      livemode: false,
      metadata: { tenant: 't1' },
      identity: { country: 'US', entity_type: 'company' },
      defaults: {
        currency: 'usd',
        responsibilities: {
          fees_collector: 'application',
          losses_collector: 'application',
          requirements_collector: 'stripe',
        },
      },
    });
    expect(created.id).toMatch(/^acct_/);
    expect(created.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const merchant = created.configuration?.merchant;
    expect(merchant?.applied).toBe(true);
    expect(merchant?.capabilities?.card_payments).toEqual({
      status: 'restricted',
      status_details: [{ code: 'requirements_past_due', resolution: 'provide_info' }],
    });
    expect(merchant?.capabilities?.stripe_balance?.payouts?.status).toBe('restricted');
    expect(created.configuration?.recipient?.capabilities?.stripe_balance?.stripe_transfers?.status).toBe(
      'restricted',
    );
    const entries = created.requirements?.entries ?? [];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({
      awaiting_action_from: 'user',
      minimum_deadline: { status: 'currently_due' },
      requested_reasons: [{ code: 'routine_onboarding' }],
    });
    expect(entries[0].impact.restricts_capabilities).toContainEqual({
      capability: 'card_payments',
      configuration: 'merchant',
      deadline: { status: 'currently_due' },
    });

    const plain = await stripe.v2.core.accounts.retrieve(created.id);
    expect(plain).toMatchObject({ configuration: null, requirements: null, identity: null, defaults: null });
    const onlyRecipient = await stripe.v2.core.accounts.retrieve(created.id, {
      include: ['configuration.recipient'],
    });
    expect(Object.keys(onlyRecipient.configuration ?? {})).toEqual(['recipient']);

    // The same account through v1: Stripe answers it as a v1 Account.
    const v1 = await stripe.accounts.retrieve(created.id);
    expect(v1).toMatchObject({
      object: 'account',
      email: 'owner@example.com',
      country: 'US',
      business_type: 'company',
      capabilities: { card_payments: 'inactive', transfers: 'inactive' },
      charges_enabled: false,
      controller: {
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        stripe_dashboard: { type: 'express' },
      },
      metadata: { tenant: 't1' },
    });
  });

  it('refuses what Stripe refuses, in v2 error shape', async () => {
    const bad = (params: Stripe.V2.Core.AccountCreateParams) =>
      stripe.v2.core.accounts.create(params).then(
        () => null,
        (e: Stripe.errors.StripeError) => e,
      );
    const noneWithStripeLosses = await bad({
      dashboard: 'none',
      defaults: { responsibilities: { fees_collector: 'application', losses_collector: 'stripe' } },
    });
    expect(noneWithStripeLosses).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'invalid_fields',
      param: 'defaults.responsibilities',
    });
    expect(noneWithStripeLosses?.message).toContain('dashboard `none`');
    const lossesWithoutFees = await bad({
      dashboard: 'express',
      defaults: { responsibilities: { fees_collector: 'stripe', losses_collector: 'application' } },
    });
    expect(lossesWithoutFees?.message).toContain('losses_collector `application` requires fees_collector');
    const unknownCapability = await bad({
      configuration: { recipient: { capabilities: { card_payments: { requested: true } } } as never },
    });
    expect(unknownCapability).toMatchObject({ statusCode: 400, code: 'invalid_fields' });
    const missing = await stripe.v2.core.accounts
      .retrieve('acct_nope')
      .catch((e: Stripe.errors.StripeError) => e);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('updates (v2 and v1 views in step), lists with filters and pages, closes with all configurations', async () => {
    const a = await stripe.v2.core.accounts.create(merchantAndRecipient());
    const b = await stripe.v2.core.accounts.create({
      dashboard: 'full',
      identity: { country: 'FR' },
      configuration: { customer: {} },
    });
    const updated = await stripe.v2.core.accounts.update(a.id, {
      display_name: 'Tenant Renamed',
      contact_email: 'new@example.com',
      metadata: { tenant: null as unknown as string, plan: 'gold' },
      configuration: { recipient: { applied: false } },
      include: ['configuration.recipient'],
    });
    expect(updated).toMatchObject({
      display_name: 'Tenant Renamed',
      applied_configurations: ['merchant'],
      metadata: { plan: 'gold' },
      configuration: { recipient: { applied: false, capabilities: {} } },
    });
    const v1 = await stripe.accounts.retrieve(a.id);
    expect(v1.email).toBe('new@example.com');
    expect(Object.keys(v1.capabilities ?? {})).toEqual(['card_payments']);

    const merchants = await stripe.v2.core.accounts.list({ applied_configurations: ['merchant'] });
    expect(merchants.data.map((x) => x.id)).toEqual([a.id]);
    const firstPage = await stripe.v2.core.accounts.list({ limit: 1 });
    expect(firstPage.data.map((x) => x.id)).toEqual([b.id]);
    expect(firstPage.next_page_url).toContain('page=');
    const all = await stripe.v2.core.accounts.list({ limit: 1 }).autoPagingToArray({ limit: 10 });
    expect(all.map((x) => x.id)).toEqual([b.id, a.id]);

    const refused = await stripe.v2.core.accounts
      .close(a.id, { applied_configurations: [] })
      .catch((e: Stripe.errors.StripeError) => e);
    expect(refused).toMatchObject({
      statusCode: 400,
      code: 'invalid_fields',
      param: 'applied_configurations',
    });
    const closed = await stripe.v2.core.accounts.close(a.id, { applied_configurations: ['merchant'] });
    expect(closed).toMatchObject({ closed: true, applied_configurations: [] });
    expect((await stripe.v2.core.accounts.list()).data.map((x) => x.id)).toEqual([b.id]);
    expect((await stripe.v2.core.accounts.list({ closed: true })).data.map((x) => x.id)).toEqual([a.id]);
    expect((await stripe.accounts.retrieve(a.id)).charges_enabled).toBe(false);
  });

  it('onboards through a v2 link; the account then takes direct and destination charges like a v1 account', async () => {
    const a = await stripe.v2.core.accounts.create(merchantAndRecipient());
    const link = await stripe.v2.core.accountLinks.create({
      account: a.id,
      use_case: {
        type: 'account_onboarding',
        account_onboarding: { refresh_url: 'https://platform.test/refresh' },
      },
    });
    expect(link).toMatchObject({
      object: 'v2.core.account_link',
      account: a.id,
      livemode: false,
      use_case: {
        type: 'account_onboarding',
        account_onboarding: { refresh_url: 'https://platform.test/refresh' },
      },
    });
    expect(Date.parse(link.expires_at) - Date.parse(link.created)).toBe(300_000);
    const visit = await fetch(link.url, { redirect: 'manual' });
    expect(visit.headers.get('location')).toMatch(/\/_emulator\/onboarding-complete$/);
    const again = await fetch(link.url, { redirect: 'manual' });
    expect(again.headers.get('location')).toBe('https://platform.test/refresh');

    const account = await stripe.v2.core.accounts.retrieve(a.id, {
      include: ['configuration.merchant', 'configuration.recipient', 'requirements'],
    });
    expect(account.configuration?.merchant?.capabilities?.card_payments?.status).toBe('active');
    expect(account.configuration?.recipient?.capabilities?.stripe_balance?.stripe_transfers?.status).toBe(
      'active',
    );
    expect(account.requirements?.entries).toEqual([]);

    const direct = await stripe.paymentIntents.create(
      {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        application_fee_amount: 200,
      },
      { stripeAccount: a.id },
    );
    expect(direct.status).toBe('succeeded');
    const destination = await stripe.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      transfer_data: { destination: a.id },
    });
    expect(destination.status).toBe('succeeded');
    const transfer = await stripe.transfers.list({ destination: a.id });
    expect(transfer.data[0]).toMatchObject({ amount: 5000, destination: a.id });
    const balance = await stripe.balance.retrieve({}, { stripeAccount: a.id });
    expect(balance.available.find((x) => x.currency === 'usd')?.amount).toBe(2000 - 88 - 200 + 5000);

    const update = await stripe.v2.core.accountLinks.create({
      account: a.id,
      use_case: {
        type: 'account_update',
        account_update: { refresh_url: 'https://platform.test/r', return_url: 'https://platform.test/u' },
      },
    });
    expect(update.use_case.type).toBe('account_update');
    const removed = await stripe.v2.core.accountLinks
      .create({
        account: a.id,
        use_case: {
          type: 'account_onboarding',
          account_onboarding: {
            refresh_url: 'https://platform.test/r',
            configurations: ['merchant'],
          } as never,
        },
      })
      .catch((e: Stripe.errors.StripeError) => e);
    expect(removed).toMatchObject({ statusCode: 400, code: 'invalid_fields' });
  });

  it('takes Stripe-Context like Stripe-Account', async () => {
    const a = await stripe.v2.core.accounts.create(merchantAndRecipient());
    await onboard(a.id);
    const pi = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { stripeContext: a.id },
    );
    expect(pi.status).toBe('succeeded');
    const own = await stripe.v2.core.accounts.retrieve(a.id, {}, { stripeContext: a.id });
    expect(own.id).toBe(a.id);
  });
});

describe('Stripe emulator: requirements and capability controls on v2 accounts', () => {
  const h = useEmulator('sk_test_accounts_v2_controls');
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  const INCLUDE: Stripe.V2.Core.AccountRetrieveParams['include'] = ['configuration.merchant', 'requirements'];

  async function onboardedAccount(): Promise<string> {
    const account = await stripe.v2.core.accounts.create({
      dashboard: 'express',
      defaults: { responsibilities: { fees_collector: 'application', losses_collector: 'application' } },
      configuration: {
        merchant: { capabilities: { card_payments: { requested: true } } },
        recipient: { capabilities: { stripe_balance: { stripe_transfers: { requested: true } } } },
      },
    });
    await h.control('POST', `/accounts/${account.id}/verification`, { action: 'complete' });
    return account.id;
  }

  const v2Types = async (id: string): Promise<string[]> =>
    (await stripe.v2.core.events.list({ limit: 100 }, { stripeContext: id })).data.map((e) => e.type);
  const v1Types = async (id: string): Promise<string[]> =>
    (await stripe.events.list({ limit: 100 }, { stripeAccount: id })).data.map((e) => e.type);

  it('sets requirements with a deadline, restricts on past due, and gives everything back when cleared', async () => {
    const id = await onboardedAccount();
    const deadline = Math.floor(Date.now() / 1000) + 7 * 86_400;
    const due = await h.control('POST', `/accounts/${id}/requirements`, {
      currently_due: ['identity.individual.id_number'],
      deadline,
    });
    expect(due).toMatchObject({
      status: 200,
      charges_enabled: true,
      requirements: {
        currently_due: ['identity.individual.id_number'],
        past_due: [],
        current_deadline: deadline,
      },
    });
    const pending = await stripe.v2.core.accounts.retrieve(id, { include: INCLUDE });
    expect(pending.requirements).toMatchObject({
      entries: [
        {
          description: 'identity.individual.id_number',
          awaiting_action_from: 'user',
          minimum_deadline: { status: 'currently_due' },
          errors: [],
        },
      ],
      summary: {
        minimum_deadline: { status: 'currently_due', time: new Date(deadline * 1000).toISOString() },
      },
    });
    expect(pending.configuration?.merchant?.capabilities?.card_payments?.status).toBe('active');
    expect(await v2Types(id)).toContain('v2.core.account[requirements].updated');
    expect((await v1Types(id))[0]).toBe('account.updated');

    const pastDue = await h.control('POST', `/accounts/${id}/requirements`, {
      past_due: ['identity.individual.id_number'],
      deadline: deadline - 8 * 86_400,
    });
    expect(pastDue).toMatchObject({
      charges_enabled: false,
      payouts_enabled: false,
      capabilities: { card_payments: 'inactive', transfers: 'inactive' },
      requirements: { past_due: ['identity.individual.id_number'], disabled_reason: 'requirements.past_due' },
    });
    const restricted = await stripe.v2.core.accounts.retrieve(id, { include: INCLUDE });
    expect(restricted.configuration?.merchant?.capabilities?.card_payments).toEqual({
      status: 'restricted',
      status_details: [{ code: 'requirements_past_due', resolution: 'provide_info' }],
    });
    expect(restricted.requirements?.entries?.[0].impact.restricts_capabilities).toContainEqual({
      capability: 'card_payments',
      configuration: 'merchant',
      deadline: { status: 'past_due' },
    });
    const refused = await stripe.paymentIntents
      .create(
        { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
        { stripeAccount: id },
      )
      .catch((e: Stripe.errors.StripeError) => e);
    expect(refused).toMatchObject({ statusCode: 400 });
    const capabilityEvents = (
      await stripe.v2.core.events.list({ limit: 100 }, { stripeContext: id })
    ).data.filter((e) => e.type === 'v2.core.account[configuration.merchant].capability_status_updated');
    expect(capabilityEvents.length).toBeGreaterThanOrEqual(2);

    const cleared = await h.control('POST', `/accounts/${id}/requirements`, {});
    expect(cleared).toMatchObject({
      charges_enabled: true,
      payouts_enabled: true,
      capabilities: { card_payments: 'active', transfers: 'active' },
      requirements: { currently_due: [], past_due: [], disabled_reason: null, current_deadline: null },
    });
    const back = await stripe.v2.core.accounts.retrieve(id, { include: INCLUDE });
    expect(back.requirements).toEqual({ entries: [] });
    expect(back.configuration?.merchant?.capabilities?.card_payments?.status).toBe('active');

    expect(await h.control('POST', `/accounts/${id}/requirements`, { past_due: 'x' })).toMatchObject({
      status: 400,
    });
    expect(await h.control('POST', `/accounts/${id}/requirements`, { deadline: 'soon' })).toMatchObject({
      status: 400,
    });
    expect(await h.control('POST', '/accounts/acct_nope/requirements', {})).toMatchObject({ status: 404 });
  });

  it('the capability and verification controls move v2 accounts and emit both kinds of event', async () => {
    const id = await onboardedAccount();
    await h.control('POST', `/accounts/${id}/capabilities`, { card_payments: 'pending' });
    const account = await stripe.v2.core.accounts.retrieve(id, { include: INCLUDE });
    expect(account.configuration?.merchant?.capabilities?.card_payments?.status).toBe('pending');
    const latest = (await stripe.v2.core.events.list({ limit: 100 }, { stripeContext: id })).data.find(
      (e) => e.type === 'v2.core.account[configuration.merchant].capability_status_updated',
    ) as Stripe.Events.V2CoreAccountIncludingConfigurationMerchantCapabilityStatusUpdatedEvent;
    expect(latest.data.updated_capability).toBe('card_payments');
    expect(await v1Types(id)).toEqual(expect.arrayContaining(['capability.updated', 'account.updated']));

    await h.control('POST', `/accounts/${id}/verification`, { action: 'reject', reason: 'fraud' });
    const rejected = await stripe.v2.core.accounts.retrieve(id, { include: INCLUDE });
    expect(rejected.configuration?.merchant?.capabilities?.card_payments).toEqual({
      status: 'rejected',
      status_details: [{ code: 'rejected_fraud', resolution: 'contact_stripe' }],
    });
    expect(await v2Types(id)).toEqual(
      expect.arrayContaining(['v2.core.account.updated', 'v2.core.account.created']),
    );
  });
});

describe('Stripe emulator: v1 accounts on /v2', () => {
  const h = useEmulator('sk_test_accounts_v1_on_v2');

  it('reads and updates a legacy Express account through v2', async () => {
    const id = await h.verifiedAccount();
    const account = await h.stripe.v2.core.accounts.retrieve(id, {
      include: ['configuration.merchant', 'configuration.recipient', 'defaults'],
    });
    expect(account).toMatchObject({
      applied_configurations: ['merchant', 'recipient'],
      dashboard: 'express',
      defaults: {
        responsibilities: { fees_collector: 'application_express', losses_collector: 'application' },
      },
    });
    expect(account.configuration?.merchant?.capabilities?.card_payments?.status).toBe('active');
    const updated = await h.stripe.v2.core.accounts.update(id, { display_name: 'Legacy Tenant' });
    expect(updated.display_name).toBe('Legacy Tenant');
    const v1 = await h.stripe.accounts.retrieve(id);
    expect(v1.business_profile).toMatchObject({ name: 'Legacy Tenant', url: null, mcc: null });
    expect(v1.default_currency).toBe('usd');
  });
});

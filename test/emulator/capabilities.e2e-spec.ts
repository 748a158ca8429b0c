import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

/** Capability states through the control API and what Stripe refuses without them, via the real SDK. */
describe('Stripe emulator capabilities', () => {
  const h = useEmulator('sk_test_caps');
  const control = h.control;
  const verifiedAccount = h.verifiedAccount;
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));

  const direct = { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };

  it('sets a capability, keeps charges_enabled on card_payments and sends capability.updated then account.updated', async () => {
    const acct = await verifiedAccount();
    const answer = await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'pending' });
    expect(answer).toMatchObject({
      status: 200,
      capabilities: { card_payments: 'pending', transfers: 'active' },
      charges_enabled: false,
      payouts_enabled: true,
    });
    const events = (await stripe.events.list({}, { stripeAccount: acct })).data;
    const [accountUpdated, capabilityUpdated] = events; // newest first
    expect(capabilityUpdated.type).toBe('capability.updated');
    expect(capabilityUpdated.account).toBe(acct);
    expect(capabilityUpdated.data.object).toMatchObject({
      object: 'capability',
      id: 'card_payments',
      account: acct,
      status: 'pending',
      requested: true,
    });
    expect(capabilityUpdated.data.previous_attributes).toEqual({ status: 'active' });
    expect(accountUpdated.type).toBe('account.updated');
    expect(accountUpdated.data.previous_attributes).toEqual({
      capabilities: { card_payments: 'active' },
      charges_enabled: true,
    });
    expect((await stripe.accounts.retrieve(acct)).charges_enabled).toBe(false);
  });

  it('refuses bad control input', async () => {
    const acct = await verifiedAccount();
    expect(await control('POST', `/accounts/${acct}/capabilities`, { transfers: 'on' })).toMatchObject({
      status: 400,
    });
    expect(await control('POST', `/accounts/acct_nope/capabilities`, { transfers: 'active' })).toMatchObject({
      status: 404,
    });
    expect(await control('POST', '/settings', { enforce_capabilities: 'yes' })).toMatchObject({
      status: 400,
    });
    expect(await control('POST', '/settings', { nope: true })).toMatchObject({ status: 400 });
  });

  it('applies the linked rule: card_payments inactive takes transfers with it (and payouts_enabled)', async () => {
    const acct = await verifiedAccount();
    const answer = await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'inactive' });
    expect(answer).toMatchObject({
      capabilities: { card_payments: 'inactive', transfers: 'inactive' },
      charges_enabled: false,
      payouts_enabled: false,
    });
    const fell = (await stripe.events.list({ type: 'capability.updated' }, { stripeAccount: acct })).data
      .map((e) => e.data.object as unknown as { id: string; status: string })
      .filter((c) => c.status === 'inactive')
      .map((c) => c.id);
    expect(fell.sort()).toEqual(['card_payments', 'transfers']);
    // Restoring one alone leaves the other inactive; both come back when both are set.
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'active', transfers: 'active' });
    expect((await stripe.accounts.retrieve(acct)).capabilities).toEqual({
      card_payments: 'active',
      transfers: 'active',
    });
    await control('POST', '/settings', { linked_capabilities: false });
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'inactive' });
    expect((await stripe.accounts.retrieve(acct)).capabilities).toEqual({
      card_payments: 'inactive',
      transfers: 'active',
    });
  });

  it('refuses a direct charge without card_payments (400, no code) and creates nothing', async () => {
    const acct = await verifiedAccount();
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'pending' });
    const err = await stripe.paymentIntents.create(direct, { stripeAccount: acct }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const e = err as Stripe.errors.StripeInvalidRequestError;
    expect(e.statusCode).toBe(400);
    expect(e.rawType).toBe('invalid_request_error');
    expect(e.code).toBeUndefined();
    expect(e.message).toBe(
      'You cannot create a charge on a connected account without the `card_payments` capability enabled.',
    );
    expect((await stripe.paymentIntents.list({}, { stripeAccount: acct })).data).toHaveLength(0);

    // Without confirm the PaymentIntent is created; confirming it is refused the same way.
    const pi = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa' },
      { stripeAccount: acct },
    );
    const atConfirm = await stripe.paymentIntents
      .confirm(pi.id, {}, { stripeAccount: acct })
      .catch((x: unknown) => x);
    expect(atConfirm).toMatchObject({ statusCode: 400, message: e.message });
    expect((await stripe.paymentIntents.retrieve(pi.id, {}, { stripeAccount: acct })).status).toBe(
      'requires_confirmation',
    );
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'active' });
    expect((await stripe.paymentIntents.confirm(pi.id, {}, { stripeAccount: acct })).status).toBe(
      'succeeded',
    );
  });

  it('refuses a destination charge without transfers: insufficient_capabilities_for_transfer', async () => {
    const acct = await verifiedAccount();
    await control('POST', '/settings', { linked_capabilities: false });
    await control('POST', `/accounts/${acct}/capabilities`, { transfers: 'inactive' });
    const err = await stripe.paymentIntents
      .create({ ...direct, application_fee_amount: 100, transfer_data: { destination: acct } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 400,
      code: 'insufficient_capabilities_for_transfer',
      param: 'transfer_data[destination]',
      message:
        'Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments',
    });
    // A direct charge only needs card_payments.
    expect((await stripe.paymentIntents.create(direct, { stripeAccount: acct })).status).toBe('succeeded');
  });

  it('replays a refusal under its idempotency key even after the capability turns active', async () => {
    const acct = await verifiedAccount();
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'pending' });
    const opts = { stripeAccount: acct, idempotencyKey: 'route-1-attempt-1' };
    const first = await stripe.paymentIntents.create(direct, opts).catch((e: unknown) => e);
    expect(first).toMatchObject({ statusCode: 400 });
    await control('POST', `/accounts/${acct}/capabilities`, { card_payments: 'active' });
    const replay = (await stripe.paymentIntents
      .create(direct, opts)
      .catch((e: unknown) => e)) as Stripe.errors.StripeInvalidRequestError;
    expect(replay.statusCode).toBe(400);
    expect(replay.message).toBe((first as Error).message);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    const fresh = await stripe.paymentIntents.create(direct, {
      ...opts,
      idempotencyKey: 'route-1-attempt-2',
    });
    expect(fresh.status).toBe('succeeded');
    // A parameter error is not saved (Stripe never began executing): the key stays usable.
    const missing = await stripe.paymentIntents
      .create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams, { idempotencyKey: 'k-param' })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ statusCode: 400, code: 'parameter_missing' });
    const fixed = await stripe.paymentIntents.create(direct, { idempotencyKey: 'k-param' });
    expect(fixed.status).toBe('succeeded');
  });

  it('lets everything through when enforcement is off', async () => {
    const account = await stripe.accounts.create({ type: 'express', country: 'US' }); // not onboarded
    await control('POST', '/settings', { enforce_capabilities: false });
    expect((await stripe.paymentIntents.create(direct, { stripeAccount: account.id })).status).toBe(
      'succeeded',
    );
    expect((await control('GET', '/settings')).enforce_capabilities).toBe(false);
  });
});

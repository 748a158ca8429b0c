import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { eventually } from '../utils/eventually';

/** The emulator's whole surface, driven only through the real stripe SDK (plus a browser-like fetch). */
describe('Stripe emulator through the stripe SDK', () => {
  let emulator: RunningEmulator;
  let stripe: Stripe;
  let receiver: Server;
  let receiverUrl: string;
  const received: { body: string; signature: string }[] = [];

  const sdk = (key: string): Stripe =>
    new Stripe(key, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });

  beforeAll(async () => {
    emulator = await startStripeEmulator({ port: 0, webhookRetry: { initialDelayMs: 20, maxAttempts: 3 } });
    stripe = sdk('sk_test_123');
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: String(req.headers['stripe-signature']),
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/connect/webhooks`;
  });

  afterAll(async () => {
    await emulator.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  let connectSecret: string;
  let oauthAccount: string;
  let expressAccount: string;

  it('registers a Connect webhook endpoint and returns its secret once', async () => {
    const endpoint = await stripe.webhookEndpoints.create({
      url: receiverUrl,
      enabled_events: ['*'],
      connect: true,
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    connectSecret = endpoint.secret as string;
    const again = await stripe.webhookEndpoints.retrieve(endpoint.id);
    expect(again.secret).toBeUndefined();
  });

  it('runs the OAuth authorize redirect and token exchange; reusing the code is invalid_grant', async () => {
    const authorize = `${emulator.url}/oauth/authorize?response_type=code&client_id=ca_test&scope=read_write&state=st8&redirect_uri=${encodeURIComponent('http://localhost/cb')}`;
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    expect(location.searchParams.get('state')).toBe('st8');
    const code = location.searchParams.get('code') as string;
    expect(code).toMatch(/^ac_/);

    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code });
    expect(token.access_token).toMatch(/^sk_test_/);
    expect(token.stripe_user_id).toMatch(/^acct_/);
    oauthAccount = token.stripe_user_id as string;
    const account = await stripe.accounts.retrieve(oauthAccount);
    expect(account).toMatchObject({
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      type: 'standard',
    });

    await expect(stripe.oauth.token({ grant_type: 'authorization_code', code })).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidGrantError,
    );
    // The replay revoked the first exchange's token.
    await expect(sdk(token.access_token as string).balanceTransactions.list()).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });

  it('denies the next authorize when told to', async () => {
    await fetch(`${emulator.url}/_emulator/oauth/next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'deny' }),
    });
    const res = await fetch(
      `${emulator.url}/oauth/authorize?response_type=code&client_id=ca_test&state=s2&redirect_uri=http%3A%2F%2Flocalhost%2Fcb`,
      { redirect: 'manual' },
    );
    const location = new URL(res.headers.get('location') as string);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('s2');
  });

  it('creates an express account whose account link completes onboarding', async () => {
    const account = await stripe.accounts.create({
      type: 'express',
      country: 'US',
      email: 'e@example.com',
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    });
    expressAccount = account.id;
    expect(account.charges_enabled).toBe(false);
    expect(account.requirements?.currently_due?.length).toBeGreaterThan(0);
    const link = await stripe.accountLinks.create({
      account: account.id,
      refresh_url: 'http://localhost/refresh',
      return_url: 'http://localhost/return',
      type: 'account_onboarding',
    });
    expect(link.expires_at - link.created).toBe(300);
    const visit = await fetch(link.url, { redirect: 'manual' });
    expect(visit.headers.get('location')).toBe('http://localhost/return');
    const after = await stripe.accounts.retrieve(account.id);
    expect(after).toMatchObject({ charges_enabled: true, payouts_enabled: true, details_submitted: true });
    expect(after.capabilities).toEqual({ card_payments: 'active', transfers: 'active' });
    const reused = await fetch(link.url, { redirect: 'manual' });
    expect(reused.headers.get('location')).toBe('http://localhost/refresh');
  });

  let directPi: Stripe.PaymentIntent;

  it('makes a direct charge with a fee on the connected account, invisible to the platform', async () => {
    directPi = await stripe.paymentIntents.create(
      {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        application_fee_amount: 200,
      },
      { stripeAccount: oauthAccount },
    );
    expect(directPi.status).toBe('succeeded');
    expect(directPi.latest_charge).toMatch(/^ch_/);
    const fees = await stripe.applicationFees.list({ limit: 5 });
    expect(fees.data[0]).toMatchObject({ amount: 200, account: oauthAccount });

    const missing = await stripe.paymentIntents.retrieve(directPi.id).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    const seen = await stripe.paymentIntents.retrieve(directPi.id, {}, { stripeAccount: oauthAccount });
    expect(seen.id).toBe(directPi.id);
  });

  it('declines pm_card_chargeDeclined with card_declined', async () => {
    const err = await stripe.paymentIntents
      .create(
        { amount: 1500, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true },
        { stripeAccount: oauthAccount },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
    const pi = (err as Stripe.errors.StripeCardError).payment_intent as Stripe.PaymentIntent;
    expect(pi.status).toBe('requires_payment_method');
  });

  it('refunds part of the charge and refuses an over-refund', async () => {
    const refund = await stripe.refunds.create(
      { payment_intent: directPi.id, amount: 500, refund_application_fee: true },
      { stripeAccount: oauthAccount },
    );
    expect(refund).toMatchObject({ amount: 500, status: 'succeeded' });
    const fee = (await stripe.applicationFees.list({ limit: 1 })).data[0];
    expect(fee.amount_refunded).toBe(50);
    const over = await stripe.refunds
      .create({ payment_intent: directPi.id, amount: 1600 }, { stripeAccount: oauthAccount })
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(over).toMatchObject({ statusCode: 400, param: 'amount' });
  });

  it('makes a destination charge that creates a transfer', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      application_fee_amount: 300,
      transfer_data: { destination: expressAccount },
    });
    expect(pi.status).toBe('succeeded');
    const transfers = await stripe.transfers.list({ destination: expressAccount });
    expect(transfers.data).toHaveLength(1);
    expect(transfers.data[0]).toMatchObject({ amount: 3000, destination: expressAccount });
  });

  it('replays the same PaymentIntent for a repeated idempotency key and refuses other parameters', async () => {
    const params = { amount: 1234, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    const second = await stripe.paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    const err = await stripe.paymentIntents
      .create({ ...params, amount: 999 }, { idempotencyKey: 'idem-1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('rejects an unknown parameter with 400 parameter_unknown', async () => {
    const err = await stripe.paymentIntents
      .create({ amount: 1000, currency: 'usd', foo: 'bar' } as Stripe.PaymentIntentCreateParams)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'foo' });
    const nested = await stripe.paymentIntents
      .create({
        amount: 1000,
        currency: 'usd',
        transfer_data: { destination: expressAccount, bogus: 1 },
      } as unknown as Stripe.PaymentIntentCreateParams)
      .catch((e: unknown) => e);
    expect(nested).toMatchObject({ code: 'parameter_unknown', param: 'transfer_data[bogus]' });
  });

  it('answers 401 for a bad key without echoing it', async () => {
    const err = await sdk('not_a_key_abcdef123456')
      .paymentIntents.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Error).message).not.toContain('not_a_key_abcdef123456');
  });

  it("lists the connected account's events", async () => {
    const events = await stripe.events.list({ limit: 100 }, { stripeAccount: oauthAccount });
    const types = events.data.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'payment_intent.succeeded',
        'payment_intent.payment_failed',
        'charge.refunded',
      ]),
    );
    expect(events.data.every((e) => e.account === oauthAccount)).toBe(true);
    const platformEvents = await stripe.events.list({
      types: ['application_fee.created', 'transfer.created'],
    });
    expect(platformEvents.data.length).toBeGreaterThanOrEqual(2);
    expect(platformEvents.data.every((e) => e.account === undefined)).toBe(true);
  });

  it('delivers signed Connect webhooks that constructEvent accepts, with account set', async () => {
    await eventually(
      'the payment_intent.succeeded webhook',
      () =>
        received.some((r) => (JSON.parse(r.body) as { type: string }).type === 'payment_intent.succeeded'),
      { timeoutMs: 5000, intervalMs: 20 },
    );
    for (const r of received) {
      const event = stripe.webhooks.constructEvent(r.body, r.signature, connectSecret);
      expect(event.account).toMatch(/^acct_/);
    }
    const types = received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types).toEqual(expect.arrayContaining(['account.application.authorized', 'account.updated']));
    expect(types).not.toContain('transfer.created'); // a platform event: not for Connect endpoints
  });
});

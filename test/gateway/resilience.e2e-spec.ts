import Stripe from 'stripe';
import { register } from 'prom-client';
import { ServiceException, ErrorCode } from '@app/common';
import { StripeSdkGateway, StripeSdkGatewayOptions } from '@app/stripe-gateway';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { sleep } from '../utils/eventually';
import { emulatorControl, EmulatorRequest, emulatorRequests } from '../support/emulator';

/**
 * The gateway against the real emulator over HTTP, with faults injected through its control API
 * (POST /_emulator/faults, GET /_emulator/requests). Small thresholds and delays keep it quick.
 */
describe('StripeSdkGateway resilience (against the emulator)', () => {
  let emulator: RunningEmulator;

  const control = (method: string, path: string, body?: unknown): Promise<unknown> =>
    emulatorControl(emulator.url, path, body, method);
  const addFault = (fault: Record<string, unknown>): Promise<unknown> => control('POST', '/faults', fault);
  const requests = (path: string, method = 'POST'): Promise<EmulatorRequest[]> =>
    emulatorRequests(emulator.url, { path, method });

  const gatewayWith = (
    options: StripeSdkGatewayOptions = {},
    secretKey = 'sk_test_gateway_e2e',
  ): StripeSdkGateway =>
    new StripeSdkGateway(
      { secretKey, apiBase: emulator.url, emulated: true },
      {
        timeoutMs: 2000,
        ...options,
        retry: {
          maxRetries: 3,
          initialDelayMs: 20,
          maxDelayMs: 100,
          maxRetryAfterMs: 3000,
          ...options.retry,
        },
        breaker: { threshold: 3, halfOpenAfterMs: 400, ...options.breaker },
      },
    );

  const visaPayment = {
    amount: 1000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
  } as const;

  async function caught(promise: Promise<unknown>): Promise<ServiceException> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceException);
      return err as ServiceException;
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    emulator = await startStripeEmulator({ port: 0, logger: () => undefined });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    await control('POST', '/reset');
  });

  it('three 500s then success create exactly one PaymentIntent, every attempt with the same idempotency key', async () => {
    const gateway = gatewayWith({ breaker: { threshold: 10 } });
    await addFault({ path: '/v1/payment_intents', method: 'POST', count: 3, status: 500 });

    const pi = await gateway.createPaymentIntent(visaPayment, {});
    expect(pi.status).toBe('succeeded');

    const log = await requests('/v1/payment_intents');
    expect(log.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    const keys = new Set(log.map((r) => r.idempotency_key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toEqual(expect.any(String));

    const list = await gateway.listPaymentIntents({ limit: 10 });
    expect(list.data.map((p) => p.id)).toEqual([pi.id]);
  });

  it('does not retry a 429 that says Stripe-Should-Retry: false', async () => {
    const gateway = gatewayWith();
    await addFault({
      path: '/v1/payment_intents',
      method: 'POST',
      count: 1,
      status: 429,
      headers: { 'Stripe-Should-Retry': 'false' },
    });
    const err = await caught(gateway.createPaymentIntent(visaPayment, {}));
    expect(err.code).toBe(ErrorCode.StripeUnavailable);
    expect(err.details).toMatchObject({ stripe: { status: 429 } });
    expect(await requests('/v1/payment_intents')).toHaveLength(1);
  });

  it('waits at least Retry-After before retrying a 429', async () => {
    const gateway = gatewayWith();
    await addFault({
      path: '/v1/payment_intents',
      method: 'POST',
      count: 1,
      status: 429,
      headers: { 'Retry-After': '1' },
    });
    const started = Date.now();
    const pi = await gateway.createPaymentIntent(visaPayment, {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(pi.status).toBe('succeeded');
    expect((await requests('/v1/payment_intents')).map((r) => r.status)).toEqual([429, 200]);
  });

  it('opens the breaker after its threshold, fails fast, then closes after a successful half-open probe', async () => {
    const gateway = gatewayWith({
      retry: { maxRetries: 0 },
      breaker: { threshold: 3, halfOpenAfterMs: 400 },
    });
    await addFault({ path: '/v1/payment_intents', method: 'POST', count: 50, status: 500 });

    for (let i = 0; i < 3; i++) {
      const err = await caught(gateway.createPaymentIntent(visaPayment, {}));
      expect(err.details).toMatchObject({ stripe: { status: 500 } });
    }
    expect(gateway.circuitStates().payments).toBe('open');
    expect(await register.getSingleMetricAsString('stripe_circuit_state')).toContain(
      'stripe_circuit_state{family="payments"} 2',
    );

    const started = Date.now();
    const fast = await caught(gateway.createPaymentIntent(visaPayment, {}));
    expect(fast.code).toBe(ErrorCode.StripeUnavailable);
    expect(fast.message).toMatch(/^Stripe unavailable/);
    expect(Date.now() - started).toBeLessThan(100);
    expect(await requests('/v1/payment_intents')).toHaveLength(3);

    // Other families keep working: the breaker is per family.
    expect(gateway.circuitStates().billing).toBe('closed');
    await expect(gateway.createCustomer({ email: 'a@b.example' })).resolves.toMatchObject({
      object: 'customer',
    });

    await control('DELETE', '/faults');
    await sleep(450);
    const probe = await gateway.createPaymentIntent(visaPayment, {});
    expect(probe.status).toBe('succeeded');
    expect(gateway.circuitStates().payments).toBe('closed');
    expect(await register.getSingleMetricAsString('stripe_circuit_state')).toContain(
      'stripe_circuit_state{family="payments"} 0',
    );
  });

  it('does not count 4xx or card declines towards the breaker', async () => {
    const gateway = gatewayWith({ retry: { maxRetries: 0 }, breaker: { threshold: 2 } });
    for (let i = 0; i < 4; i++) {
      await caught(
        gateway.createPaymentIntent({ ...visaPayment, payment_method: 'pm_card_chargeDeclined' }, {}),
      );
    }
    expect(gateway.circuitStates().payments).toBe('closed');
  });

  it('a timeout followed by the retry leaves exactly one PaymentIntent', async () => {
    const gateway = gatewayWith({
      timeoutMs: 400,
      retry: { maxRetries: 8, initialDelayMs: 100, maxDelayMs: 400 },
      breaker: { threshold: 20 },
    });
    // Stripe processes the request but the answer arrives after our deadline.
    await addFault({ path: '/v1/payment_intents', method: 'POST', count: 1, mode: 'after', delay_ms: 1200 });

    const pi = await gateway.createPaymentIntent(visaPayment, { idempotencyKey: 'route-timeout-1' });
    expect(pi.status).toBe('succeeded');

    const log = await requests('/v1/payment_intents');
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(new Set(log.map((r) => r.idempotency_key))).toEqual(new Set(['route-timeout-1']));
    const list = await gateway.listPaymentIntents({ limit: 10 });
    expect(list.data.map((p) => p.id)).toEqual([pi.id]);
  });

  it('maps a card decline to CONNECT_062 with the decline code, without retrying', async () => {
    const gateway = gatewayWith();
    const err = await caught(
      gateway.createPaymentIntent({ ...visaPayment, payment_method: 'pm_card_chargeDeclined' }, {}),
    );
    expect(err.code).toBe(ErrorCode.CardDeclined);
    expect(err.httpStatus).toBe(402);
    expect(err.details).toMatchObject({
      stripe: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', status: 402 },
    });
    expect((err.details as { stripe: { payment_intent?: string } }).stripe.payment_intent).toMatch(/^pi_/);
    expect(await requests('/v1/payment_intents')).toHaveLength(1);
  });

  it('runs the OAuth flow through the rewritten authorize URL and maps a reused code to CONNECT_002', async () => {
    const gateway = gatewayWith();
    const url = gateway.oauthAuthorizeUrl({ state: 'state-123', redirectUri: 'http://localhost:3000/cb' });
    expect(url.startsWith(`${emulator.url}/oauth/authorize?`)).toBe(true);

    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const callback = new URL(res.headers.get('location') ?? '');
    expect(callback.searchParams.get('state')).toBe('state-123');
    const code = callback.searchParams.get('code') ?? '';

    const token = await gateway.oauthToken(code);
    expect(token.stripe_user_id).toMatch(/^acct_/);
    const account = await gateway.retrieveAccount(token.stripe_user_id ?? '');
    expect(account.charges_enabled).toBe(true);

    const reuse = await caught(gateway.oauthToken(code));
    expect(reuse.code).toBe(ErrorCode.OAuthFailed);
    expect(reuse.details).toMatchObject({ stripe: { type: 'invalid_grant' } });
    // A single-use code is never retried: exactly two token requests reached the emulator.
    expect(await requests('/oauth/token')).toHaveLength(2);
  });

  it('never puts the secret key in an error', async () => {
    const key = 'sk_live_ThisKeyMustNeverAppearAnywhere';
    const gateway = gatewayWith({}, key);
    const err = await caught(gateway.retrieveAccount('acct_123'));
    expect(err.code).toBe(ErrorCode.StripeRequestFailed);
    expect(err.details).toMatchObject({ stripe: { status: 401 } });
    expect(JSON.stringify(err.toBody())).not.toContain(key);
    expect(err.message).not.toContain('sk_live');
  });

  it('rejects calls beyond the bulkhead with CONNECT_060 instead of queueing forever', async () => {
    const gateway = gatewayWith({ bulkhead: { limit: 1, queue: 0 } });
    await addFault({ path: '/v1/customers', method: 'POST', count: 1, delay_ms: 300, mode: 'after' });
    const slow = gateway.createCustomer({ email: 'slow@b.example' });
    const rejected = await caught(gateway.createCustomer({ email: 'fast@b.example' }));
    expect(rejected.code).toBe(ErrorCode.StripeUnavailable);
    await expect(slow).resolves.toMatchObject({ email: 'slow@b.example' });
  });

  it('acts on a connected account with Stripe-Account and lists its events page by page', async () => {
    const gateway = gatewayWith();
    const account = await gateway.createAccount({ type: 'express', country: 'US', email: 'x@b.example' });
    await control('POST', `/accounts/${account.id}/verification`, { action: 'complete' });
    for (let i = 0; i < 3; i++) {
      await gateway.createPaymentIntent(
        { ...visaPayment, application_fee_amount: 100 },
        { stripeAccount: account.id, idempotencyKey: `direct-${i}` },
      );
    }
    const sent = await requests('/v1/payment_intents');
    expect(sent.every((r) => r.stripe_account === account.id)).toBe(true);
    expect((await gateway.listPaymentIntents({}, {})).data).toHaveLength(0);

    const events: string[] = [];
    for await (const event of gateway.iterateEvents({
      stripeAccount: account.id,
      types: ['payment_intent.created'],
      limit: 2,
    })) {
      events.push(event.type);
    }
    expect(events).toEqual(['payment_intent.created', 'payment_intent.created', 'payment_intent.created']);
    expect((await gateway.listEvents({ types: ['payment_intent.created'] })).data).toHaveLength(0);
  });

  describe('verifyWebhook', () => {
    const gatewayForWebhooks = (): StripeSdkGateway =>
      new StripeSdkGateway({ secretKey: 'sk_test_x', apiBase: 'http://127.0.0.1:1', emulated: true });
    const OLD = 'whsec_old_secret_0001';
    const NEW = 'whsec_new_secret_0002';
    const payload = JSON.stringify({
      id: 'evt_123',
      object: 'event',
      type: 'account.updated',
      data: { object: {} },
    });
    const reason = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (err) {
        expect((err as ServiceException).code).toBe(ErrorCode.WebhookInvalid);
        return (err as ServiceException).details?.reason;
      }
      throw new Error('expected a rejection');
    };

    it('accepts a signature made with the second of two secrets (rotation)', () => {
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: NEW });
      expect(gatewayForWebhooks().verifyWebhook(Buffer.from(payload), header, [OLD, NEW]).id).toBe('evt_123');
    });

    it('refuses forged, missing and 10-minute-old signatures', () => {
      const gateway = gatewayForWebhooks();
      const body = Buffer.from(payload);
      const forged = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_attacker' });
      const old = Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: NEW,
        timestamp: Math.floor(Date.now() / 1000) - 600,
      });
      expect(reason(() => gateway.verifyWebhook(body, forged, [OLD, NEW]))).toBe('no_matching_signature');
      expect(reason(() => gateway.verifyWebhook(body, undefined, [OLD, NEW]))).toBe('missing_signature');
      expect(reason(() => gateway.verifyWebhook(body, old, [OLD, NEW]))).toBe('timestamp_out_of_tolerance');
      expect(reason(() => gateway.verifyWebhook(body, 't=abc', [OLD, NEW]))).toBe('malformed');
    });
  });
});

import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';
import { eventually, sleep } from '../utils/eventually';

/** Faults, verification changes, pagination, subscriptions and webhook ordering through the control API. */
describe('Stripe emulator control API', () => {
  const h = useEmulator('sk_test_ctl', { webhookRetry: { initialDelayMs: 10, maxAttempts: 3 } });
  const control = h.control;
  let stripe: Stripe;
  beforeAll(() => (stripe = h.stripe));
  const piParams = { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };

  it('injects a 429 with headers before processing, then lets the next call through', async () => {
    await control('POST', '/faults', {
      path: '/v1/payment_intents',
      method: 'POST',
      count: 1,
      status: 429,
      headers: { 'Stripe-Should-Retry': 'false' },
    });
    const err = await stripe.paymentIntents.create(piParams).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((err as Stripe.errors.StripeError).headers?.['stripe-should-retry']).toBe('false');
    expect((await stripe.paymentIntents.list()).data).toHaveLength(0);
    expect((await stripe.paymentIntents.create(piParams)).status).toBe('succeeded');
    const log = (await control('GET', '/requests?path=/v1/payment_intents&method=POST')).data as {
      status: number;
    }[];
    expect(log.map((r) => r.status)).toEqual([429, 200]);
  });

  it("mode 'after' processes the request, answers 500, and the retry with the same key replays it", async () => {
    await control('POST', '/faults', { path: '/v1/payment_intents', count: 1, status: 500, mode: 'after' });
    const err = await stripe.paymentIntents
      .create(piParams, { idempotencyKey: 'k-after' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    const pi = await stripe.paymentIntents.create(piParams, { idempotencyKey: 'k-after' });
    expect((await stripe.paymentIntents.list()).data.map((p) => p.id)).toEqual([pi.id]);
  });

  it('answers 409 idempotency_key_in_use while the first request with the key is in flight', async () => {
    await control('POST', '/faults', { path: '/v1/payment_intents', count: 1, delay_ms: 400, mode: 'after' });
    const first = stripe.paymentIntents.create(piParams, { idempotencyKey: 'k-busy' });
    await sleep(100);
    const twin = await stripe.paymentIntents
      .create(piParams, { idempotencyKey: 'k-busy' })
      .catch((e: unknown) => e);
    expect(twin).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    const pi = await first;
    expect((await stripe.paymentIntents.create(piParams, { idempotencyKey: 'k-busy' })).id).toBe(pi.id);
  });

  it("a delay 'after' longer than the client timeout still creates the object once", async () => {
    await control('POST', '/faults', { path: '/v1/payment_intents', count: 1, delay_ms: 600, mode: 'after' });
    const impatient = new Stripe('sk_test_ctl', {
      host: '127.0.0.1',
      port: h.emulator.port,
      protocol: 'http',
      maxNetworkRetries: 0,
      timeout: 200,
    });
    const err = await impatient.paymentIntents
      .create(piParams, { idempotencyKey: 'k-timeout' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    await sleep(500);
    await stripe.paymentIntents.create(piParams, { idempotencyKey: 'k-timeout' });
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it('moves verification: restrict, complete, reject, require_more', async () => {
    const account = await stripe.accounts.create({ type: 'custom', country: 'US' });
    const restricted = await control('POST', `/accounts/${account.id}/verification`, { action: 'restrict' });
    expect(restricted).toMatchObject({
      charges_enabled: false,
      requirements: { disabled_reason: 'requirements.past_due' },
    });
    expect((restricted.requirements as { past_due: string[] }).past_due.length).toBeGreaterThan(0);
    await control('POST', `/accounts/${account.id}/verification`, { action: 'complete' });
    expect(await stripe.accounts.retrieve(account.id)).toMatchObject({
      charges_enabled: true,
      payouts_enabled: true,
    });
    await control('POST', `/accounts/${account.id}/verification`, { action: 'require_more' });
    const more = await stripe.accounts.retrieve(account.id);
    expect(more.requirements?.current_deadline).toBeGreaterThan(Date.now() / 1000);
    await control('POST', `/accounts/${account.id}/verification`, { action: 'reject' });
    expect((await stripe.accounts.retrieve(account.id)).requirements?.disabled_reason).toBe('rejected.fraud');
    const events = await stripe.events.list({ type: 'account.updated' }, { stripeAccount: account.id });
    expect(events.data).toHaveLength(4);
    expect(events.data[0].data.previous_attributes).toBeDefined();
  });

  it('paginates newest first with starting_after / ending_before', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.unshift((await stripe.customers.create({ email: `c${i}@x.test` })).id);
    const page1 = await stripe.customers.list({ limit: 3 });
    expect(page1.data.map((c) => c.id)).toEqual(ids.slice(0, 3));
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.customers.list({ limit: 3, starting_after: page1.data[2].id });
    expect(page2.data.map((c) => c.id)).toEqual(ids.slice(3, 6));
    const back = await stripe.customers.list({ limit: 2, ending_before: page2.data[0].id });
    expect(back.data.map((c) => c.id)).toEqual(ids.slice(1, 3));
    const all: string[] = [];
    for await (const c of stripe.customers.list({ limit: 2 })) all.push(c.id);
    expect(all).toEqual(ids);
  });

  it('creates and cancels a subscription with application_fee_percent on a connected account', async () => {
    const account = await stripe.accounts.create({ type: 'express' });
    const opts = { stripeAccount: account.id };
    const customer = await stripe.customers.create({ email: 'sub@x.test' }, opts);
    const price = await stripe.prices.create(
      {
        unit_amount: 1500,
        currency: 'usd',
        recurring: { interval: 'month' },
        product_data: { name: 'Plan' },
      },
      opts,
    );
    const sub = await stripe.subscriptions.create(
      { customer: customer.id, items: [{ price: price.id }], application_fee_percent: 10 },
      opts,
    );
    expect(sub).toMatchObject({ status: 'active', application_fee_percent: 10 });
    const canceled = await stripe.subscriptions.cancel(sub.id, undefined, opts);
    expect(canceled.status).toBe('canceled');
    const types = (await stripe.events.list({}, opts)).data.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'customer.subscription.created',
        'invoice.paid',
        'customer.subscription.deleted',
      ]),
    );
  });

  it('pauses webhooks and delivers them in reverse order, redelivers twice, records delivery_success', async () => {
    const got: string[] = [];
    const { createServer } = await import('node:http');
    let fail = true;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const event = JSON.parse(body) as { id: string; type: string };
        if (fail && event.type === 'customer.created') {
          fail = false;
          res.writeHead(500).end();
          return;
        }
        got.push(event.id);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      await stripe.webhookEndpoints.create({
        url: `http://127.0.0.1:${port}/hook`,
        enabled_events: ['customer.created'],
      });
      await control('POST', '/webhooks/pause');
      const a = await stripe.customers.create({ email: 'a@x.test' });
      const b = await stripe.customers.create({ email: 'b@x.test' });
      const events = (await stripe.events.list({ type: 'customer.created' })).data; // newest first: b, a
      expect(events[0].data.object).toMatchObject({ id: b.id });
      expect(events[1].data.object).toMatchObject({ id: a.id });
      expect((await stripe.events.list({ delivery_success: false })).data).toHaveLength(2);
      await control('POST', '/webhooks/resume', { order: 'reverse' });
      // b's event was sent first and failed once (500), then was retried after a's.
      await eventually('both deliveries', () => got.length >= 2, { timeoutMs: 5000, intervalMs: 20 });
      expect(got).toEqual([events[1].id, events[0].id]);
      expect((await stripe.events.list({ delivery_success: false })).data).toHaveLength(0);
      const redelivered = await control('POST', `/events/${events[1].id}/redeliver`, {
        times: 2,
        concurrent: true,
      });
      expect(redelivered.sent).toBe(2);
      expect(got.filter((id) => id === events[1].id)).toHaveLength(3);
      const deliveries = (await control('GET', '/webhooks/deliveries')).data as { ok: boolean }[];
      expect(deliveries.filter((d) => !d.ok)).toHaveLength(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('disputes a charge through the control API', async () => {
    const pi = await stripe.paymentIntents.create(piParams);
    const dispute = await control('POST', `/charges/${String(pi.latest_charge)}/dispute`, {});
    expect(dispute).toMatchObject({ object: 'dispute', charge: pi.latest_charge, status: 'needs_response' });
    expect((await stripe.events.list({ type: 'charge.dispute.created' })).data).toHaveLength(1);
  });

  it('changes fields of any stored object and forgets objects, without events (drift)', async () => {
    const pi = await stripe.paymentIntents.create({ ...piParams, metadata: { route: 'pr_1' } });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 300 });
    const eventsBefore = (await stripe.events.list({ limit: 100 })).data.length;

    const changed = await control('POST', `/objects/${pi.id}`, {
      set: { amount: 999, 'metadata.route': 'pr_2', 'metadata.extra': 'x', status: 'processing' },
    });
    expect(changed).toMatchObject({ id: pi.id, amount: 999, status: 'processing' });
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({
      amount: 999,
      status: 'processing',
      metadata: { route: 'pr_2', extra: 'x' },
    });
    await control('POST', `/objects/${String(pi.latest_charge)}`, { set: { amount_refunded: 0 } });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).amount_refunded).toBe(0);
    expect(await control('POST', `/objects/${pi.id}`, { set: { id: 'pi_other' } })).toMatchObject({
      error: { type: 'invalid_request_error' },
    });
    expect(await control('POST', `/objects/${pi.id}`, {})).toMatchObject({ error: {} });
    expect(await control('POST', '/objects/pi_missing', { set: { amount: 1 } })).toMatchObject({
      error: { message: "No such object: 'pi_missing'" },
    });

    expect(await control('DELETE', `/objects/${refund.id}`)).toEqual({
      status: 200,
      id: refund.id,
      object: 'refund',
      deleted: true,
    });
    await expect(stripe.refunds.retrieve(refund.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data).toHaveLength(0);
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([]);
    expect((await stripe.events.list({ limit: 100 })).data).toHaveLength(eventsBefore);
    expect(await control('DELETE', `/objects/${refund.id}`)).toMatchObject({ error: {} });
  });

  it('loses queued webhooks on resume {discard: true}: the events stay, undelivered', async () => {
    await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/hook',
      enabled_events: ['customer.created'],
    });
    await control('POST', '/webhooks/pause');
    const customer = await stripe.customers.create({ email: 'lost@x.test' });
    expect(await control('POST', '/webhooks/resume', { discard: true })).toMatchObject({ discarded: 1 });
    await sleep(50);
    const [event] = (await stripe.events.list({ delivery_success: false })).data;
    expect(event.data.object).toMatchObject({ id: customer.id });
    expect((await control('GET', `/webhooks/deliveries?event_id=${event.id}`)).data).toEqual([]);
  });
});

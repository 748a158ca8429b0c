import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { useEmulator } from './emulator-harness';

interface Received {
  body: string;
  signature: string;
}

/** A webhook receiver on an ephemeral port that records what reaches it. */
function receiver(): { url: () => string; received: Received[]; server: Server } {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body, signature: String(req.headers['stripe-signature']) });
      res.writeHead(200).end();
    });
  });
  return {
    server,
    received,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
  };
}

async function until<T>(what: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Event destinations, v2 events and thin deliveries through the real SDK. */
describe('Stripe emulator: event destinations and thin events', () => {
  const h = useEmulator('sk_test_event_destinations');
  const hook = receiver();
  let stripe: Stripe;
  beforeAll(async () => {
    stripe = h.stripe;
    await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise((r) => hook.server.close(r)));
  beforeEach(() => (hook.received.length = 0));

  const ACCOUNT_EVENTS = [
    'v2.core.account.created',
    'v2.core.account.updated',
    'v2.core.account[requirements].updated',
    'v2.core.account[configuration.merchant].capability_status_updated',
    'v2.core.account[configuration.recipient].capability_status_updated',
    'v2.core.account_link.returned',
    'v1.account.updated',
    'v1.capability.updated',
  ];

  async function destination(enabled_events = ACCOUNT_EVENTS) {
    return stripe.v2.core.eventDestinations.create({
      name: 'connect-service',
      type: 'webhook_endpoint',
      event_payload: 'thin',
      events_from: ['@accounts'],
      enabled_events,
      webhook_endpoint: { url: hook.url() },
      include: ['webhook_endpoint.signing_secret'],
    });
  }

  const notifications = (secret: string) =>
    hook.received.map((r) => stripe.parseEventNotification(r.body, r.signature, secret));

  it('shows the signing secret once, then manages the destination (list, update, disable, enable, delete)', async () => {
    const created = await destination();
    expect(created).toMatchObject({
      object: 'v2.core.event_destination',
      name: 'connect-service',
      status: 'enabled',
      event_payload: 'thin',
      events_from: ['@accounts'],
      enabled_events: ACCOUNT_EVENTS,
      livemode: false,
    });
    expect(created.id).toMatch(/^ed_/);
    expect(created.webhook_endpoint?.signing_secret).toMatch(/^whsec_/);
    const fetched = await stripe.v2.core.eventDestinations.retrieve(created.id, {
      include: ['webhook_endpoint.url'],
    });
    expect(fetched.webhook_endpoint).toEqual({ url: hook.url() });
    const listed = await stripe.v2.core.eventDestinations.list();
    expect(listed.data.map((d) => d.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain('whsec_');
    const updated = await stripe.v2.core.eventDestinations.update(created.id, {
      enabled_events: ['v2.core.account.updated'],
      description: 'thin account events',
    });
    expect(updated).toMatchObject({
      enabled_events: ['v2.core.account.updated'],
      description: 'thin account events',
    });
    expect(await stripe.v2.core.eventDestinations.disable(created.id)).toMatchObject({
      status: 'disabled',
      status_details: { disabled: { reason: 'user' } },
    });
    expect((await stripe.v2.core.eventDestinations.enable(created.id)).status).toBe('enabled');
    expect(await stripe.v2.core.eventDestinations.del(created.id)).toMatchObject({ id: created.id });
    const gone = await stripe.v2.core.eventDestinations
      .retrieve(created.id)
      .catch((e: Stripe.errors.StripeError) => e);
    expect(gone).toMatchObject({ statusCode: 404 });
  });

  it('pings: a signed thin notification that parseEventNotification verifies', async () => {
    const d = await destination();
    const ping = await stripe.v2.core.eventDestinations.ping(d.id);
    expect(ping).toMatchObject({ object: 'v2.core.event', type: 'v2.core.event_destination.ping' });
    const [n] = await until(() =>
      hook.received.length ? notifications(d.webhook_endpoint!.signing_secret!) : undefined,
    );
    expect(n).toMatchObject({ id: ping.id, type: 'v2.core.event_destination.ping', object: 'v2.core.event' });
    expect(() =>
      stripe.parseEventNotification(hook.received[0].body, hook.received[0].signature, 'whsec_forged'),
    ).toThrow();
  });

  it('delivers v2 account events thin, fetchable back with their context; v1 events as `v1.` where enabled', async () => {
    const d = await destination();
    const secret = d.webhook_endpoint!.signing_secret!;
    const account = await stripe.v2.core.accounts.create({
      dashboard: 'express',
      defaults: { responsibilities: { fees_collector: 'application', losses_collector: 'stripe' } },
      configuration: {
        merchant: { capabilities: { card_payments: { requested: true } } },
        recipient: { capabilities: { stripe_balance: { stripe_transfers: { requested: true } } } },
      },
    });
    const link = await stripe.v2.core.accountLinks.create({
      account: account.id,
      use_case: {
        type: 'account_onboarding',
        account_onboarding: { refresh_url: 'https://platform.test/r' },
      },
    });
    await fetch(link.url, { redirect: 'manual' });
    const wanted = [
      'v2.core.account.created',
      'v1.account.updated',
      'v2.core.account.updated',
      'v2.core.account[requirements].updated',
      'v2.core.account[configuration.merchant].capability_status_updated',
      'v2.core.account[configuration.recipient].capability_status_updated',
      'v2.core.account_link.returned',
      'v1.capability.updated',
    ];
    const got = await until(() => {
      const all = notifications(secret);
      return wanted.every((t) => all.some((n) => n.type === t)) ? all : undefined;
    });
    for (const n of got) expect(n.context?.toString()).toBe(account.id);

    const returned = got.find(
      (n) => n.type === 'v2.core.account_link.returned',
    ) as Stripe.V2.Core.EventNotification;
    const returnedEvent = (await returned.fetchEvent()) as Stripe.Events.V2CoreAccountLinkReturnedEvent;
    expect(returnedEvent.data).toEqual({
      account_id: account.id,
      configurations: ['merchant', 'recipient'],
      use_case: 'account_onboarding',
    });

    const capability = got.filter(
      (n) => n.type === 'v2.core.account[configuration.merchant].capability_status_updated',
    );
    const capabilityEvents = await Promise.all(
      capability.map((n) => stripe.v2.core.events.retrieve(n.id, {}, { stripeContext: account.id })),
    );
    expect(
      capabilityEvents
        .map((e) => (e as { data?: { updated_capability?: string } }).data?.updated_capability)
        .sort(),
    ).toEqual(['card_payments', 'stripe_balance.payouts']);
    const requirements = got.find(
      (n) => n.type === 'v2.core.account[requirements].updated',
    ) as Stripe.Events.V2CoreAccountIncludingRequirementsUpdatedEventNotification;
    expect(requirements.related_object).toEqual({
      id: account.id,
      type: 'v2.core.account',
      url: `/v2/core/accounts/${account.id}`,
    });
    const related = await requirements.fetchRelatedObject();
    expect(related.id).toBe(account.id);
    const v1 = got.find(
      (n) => n.type === 'v1.account.updated',
    ) as Stripe.Events.V1AccountUpdatedEventNotification;
    expect((await v1.fetchRelatedObject()).charges_enabled).toBe(true);
    expect((await v1.fetchEvent()).snapshot_event).toMatch(/^evt_/);
    const capabilityNotice = got.find(
      (n) => n.type === 'v1.capability.updated',
    ) as Stripe.Events.V1CapabilityUpdatedEventNotification;
    expect(await capabilityNotice.fetchRelatedObject()).toMatchObject({
      object: 'capability',
      account: account.id,
      status: 'active',
    });

    const listed = await stripe.v2.core.events.list(
      { types: ['v2.core.account_link.returned'] },
      { stripeContext: account.id },
    );
    expect(listed.data.map((e) => e.id)).toEqual([returned.id]);
    expect(
      (await stripe.v2.core.events.list({ object_id: account.id }, { stripeContext: account.id })).data
        .length,
    ).toBeGreaterThan(3);
    const recent = await stripe.v2.core.events.list(
      { created: { gte: Math.floor(Date.now() / 1000) - 60 } },
      { stripeContext: account.id },
    );
    expect(recent.data.length).toBeGreaterThan(3);
    const none = await stripe.v2.core.events.list({ created: { lt: 1 } }, { stripeContext: account.id });
    expect(none.data).toEqual([]);
    // Without the context the platform sees only its own events.
    const missing = await stripe.v2.core.events
      .retrieve(returned.id)
      .catch((e: Stripe.errors.StripeError) => e);
    expect(missing).toMatchObject({ statusCode: 404 });

    hook.received.length = 0;
    expect(await h.control('POST', `/events/${returned.id}/redeliver`, { times: 2 })).toMatchObject({
      sent: 2,
    });
    expect(notifications(secret).map((n) => n.id)).toEqual([returned.id, returned.id]);
    const deliveries = await h.control('GET', `/webhooks/deliveries?event_id=${returned.id}`);
    expect((deliveries.data as unknown[]).length).toBe(3);
  });

  it('sends nothing to destinations listening elsewhere or disabled', async () => {
    const self = await stripe.v2.core.eventDestinations.create({
      name: 'self only',
      type: 'webhook_endpoint',
      event_payload: 'thin',
      enabled_events: ACCOUNT_EVENTS,
      webhook_endpoint: { url: hook.url() },
    });
    expect(self.events_from).toEqual(['@self']);
    const off = await destination();
    await stripe.v2.core.eventDestinations.disable(off.id);
    await stripe.v2.core.accounts.create({ configuration: { merchant: {} } });
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toEqual([]);
  });
});

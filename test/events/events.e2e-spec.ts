import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { EventsService } from '../../apps/connect-service/src/events/events.service';
import { ConnectEventType } from '../../apps/connect-service/src/events/connect-event-types';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { eventually, sleep } from '../utils/eventually';
import { api } from '../support/http';
import { ErrorCode } from '@app/common';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  verified: unknown;
}

/**
 * A platform endpoint: verifies every delivery with the standardwebhooks library (as an integrator would) and
 * answers the status `answer(n)` gives for the n-th request (1-based).
 */
class Receiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  secret = '';
  private server!: Server;
  url = '';

  constructor(private readonly answer: (n: number) => number = () => 200) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          const verified = new Webhook(this.secret).verify(body, req.headers as Record<string, string>);
          this.received.push({ headers: req.headers, body, verified });
        } catch (err) {
          this.rejected.push((err as Error).message);
        }
        const status = this.answer(this.received.length);
        res
          .writeHead(status, { 'content-type': 'text/plain' })
          .end(status >= 300 ? 'receiver says no' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('ConnectEvents to the platform (outbox, subscriptions, signed delivery)', () => {
  let t: TestApp;
  let ds: DataSource;
  let events: EventsService;
  const receivers: Receiver[] = [];
  const tenantA = uniqueTenant('ev_a');
  const tenantB = uniqueTenant('ev_b');

  beforeAll(async () => {
    t = await bootTestApp({ EVENT_DELIVERY_RETRY_SCHEDULE: '1,1', EVENT_SUBSCRIPTION_DISABLE_AFTER: '2' });
    ds = t.app.get(DataSource);
    events = t.app.get(EventsService);
  });
  afterAll(async () => {
    await t?.close();
    for (const r of receivers) await r.stop();
  });

  const bearer = (claims: Parameters<TestApp['token']>[0]) => ({
    authorization: `Bearer ${t.token(claims)}`,
  });
  const platform = () => bearer({ roles: ['platform'] });
  const admin = (tenant: string) => bearer({ tenant_id: tenant, roles: ['admin'] });
  const viewer = (tenant: string) => bearer({ tenant_id: tenant, roles: ['viewer'], scope: 'events:read' });

  async function receiver(answer?: (n: number) => number): Promise<Receiver> {
    const r = await new Receiver(answer).start();
    receivers.push(r);
    return r;
  }

  async function subscribe(
    r: Receiver,
    headers: Record<string, string>,
    body: { event_types: string[]; tenant_id?: string },
  ): Promise<{ id: string; secret: string }> {
    const res = await api(t)('POST', '/connect/event-subscriptions', {
      headers,
      body: { url: r.url, ...body },
    });
    expect(res.status).toBe(201);
    const json = res.body as { id: string; secret: string };
    r.secret = json.secret;
    return json;
  }

  function emit(
    type: ConnectEventType,
    tenant_id: string,
    data: Record<string, unknown> = {},
  ): Promise<{ id: string }> {
    return ds.transaction((manager) => events.emit(manager, { type, tenant_id, data }));
  }

  const deliveriesOf = async (eventId: string) => {
    const res = await api(t)('GET', `/connect/events/${eventId}/deliveries`, { headers: platform() });
    expect(res.status).toBe(200);
    return (
      res.body as {
        data: {
          status: string;
          attempts: number;
          subscription_id: string;
          attempt_log: { attempt_no: number; status_code: number | null; duration_ms: number }[];
        }[];
      }
    ).data;
  };

  it('delivers each emitted event, signed per Standard Webhooks, and a rolled-back transaction emits nothing', async () => {
    const r = await receiver();
    const sub = await subscribe(r, admin(tenantA), { event_types: ['*'] });
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const first = await emit('connect.payment.completed', tenantA, {
      payment_route_id: 'pr_1',
      amount: 5000,
    });
    const second = await emit('connect.account.updated', tenantA, { charges_enabled: true });
    const rolledBack = await ds
      .transaction(async (manager) => {
        await events.emit(manager, { type: 'connect.payment.failed', tenant_id: tenantA, data: {} });
        throw new Error('the state change failed');
      })
      .catch((e: Error) => e.message);
    expect(rolledBack).toBe('the state change failed');

    await eventually('two deliveries', () => r.received.length >= 2);
    expect(r.rejected).toEqual([]);
    const byId = new Map(r.received.map((x) => [x.headers['webhook-id'], x]));
    for (const [ev, type] of [
      [first, 'connect.payment.completed'],
      [second, 'connect.account.updated'],
    ] as const) {
      const got = byId.get(ev.id);
      expect(got).toBeDefined();
      expect(got!.verified).toMatchObject({
        id: ev.id,
        type,
        tenant_id: tenantA,
        created_at: expect.any(String),
      });
      expect(Object.keys(got!.verified as object).sort()).toEqual([
        'created_at',
        'data',
        'id',
        'tenant_id',
        'type',
      ]);
    }
    expect((byId.get(first.id)!.verified as { data: unknown }).data).toEqual({
      payment_route_id: 'pr_1',
      amount: 5000,
    });

    // Nothing of the rolled-back transaction exists or is delivered.
    const stored = await ds.query(`SELECT type FROM connect_events WHERE tenant_id = $1`, [tenantA]);
    expect(stored.map((s: { type: string }) => s.type).sort()).toEqual([
      'connect.account.updated',
      'connect.payment.completed',
    ]);
    await sleep(1500);
    expect(r.received).toHaveLength(2);

    const [delivery] = await deliveriesOf(first.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, subscription_id: sub.id });
    expect(delivery.attempt_log).toEqual([expect.objectContaining({ attempt_no: 1, status_code: 200 })]);

    // Manual redelivery: same webhook-id (receivers dedupe on it), a second attempt in the log.
    const redeliver = await api(t)('POST', `/connect/events/${first.id}/redeliver`, {
      headers: admin(tenantA),
      body: { subscription_id: sub.id },
    });
    expect(redeliver.status).toBe(202);
    await eventually('the redelivery', () => r.received.length >= 3);
    expect(r.received[2].headers['webhook-id']).toBe(first.id);
    await eventually('the redelivery logged', async () => (await deliveriesOf(first.id))[0].attempts === 2);
  });

  it('retries a failing receiver on the schedule: 500, 500, then 200 on the third attempt, all in the attempt log', async () => {
    const tenantC = uniqueTenant('ev_c');
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    await subscribe(r, platform(), { event_types: ['connect.payment.routed'], tenant_id: tenantC });
    await emit('connect.payment.completed', tenantC); // another type: not for this subscription
    const ev = await emit('connect.payment.routed', tenantC, { amount: 1200 });

    const delivery = await eventually('the third attempt to succeed', async () => {
      const [d] = await deliveriesOf(ev.id);
      return d?.status === 'succeeded' ? d : undefined;
    });
    expect(delivery.attempts).toBe(3);
    expect(delivery.attempt_log.map((a) => [a.attempt_no, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(delivery.attempt_log.every((a) => a.duration_ms >= 0)).toBe(true);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([ev.id, ev.id, ev.id]);
    // Each retry is signed afresh (new timestamp), and every one verifies.
    expect(r.rejected).toEqual([]);
  });

  it('keeps the secret encrypted at rest and out of every GET', async () => {
    const r = await receiver();
    const sub = await subscribe(r, platform(), {
      event_types: ['connect.dispute.created'],
      tenant_id: tenantB,
    });
    const [row] = await ds.query(`SELECT secret_enc FROM event_subscriptions WHERE id = $1`, [sub.id]);
    expect(row.secret_enc).toMatch(/^v1\./);
    expect(row.secret_enc).not.toContain(sub.secret);
    expect(row.secret_enc).not.toContain(sub.secret.slice('whsec_'.length));

    for (const url of [
      '/connect/event-subscriptions',
      `/connect/event-subscriptions/${sub.id}`,
      `/connect/event-subscriptions?tenant_id=${tenantB}`,
    ]) {
      const res = await api(t)('GET', url, { headers: platform() });
      expect(res.status).toBe(200);
      expect(res.raw).not.toContain(sub.secret.slice('whsec_'.length));
      expect(res.raw).not.toContain('secret');
    }
    const own = await api(t)('GET', `/connect/event-subscriptions/${sub.id}`, { headers: admin(tenantB) });
    expect(own.status).toBe(200);
    const foreign = await api(t)('GET', `/connect/event-subscriptions/${sub.id}`, {
      headers: admin(tenantA),
    });
    expect(foreign.status).toBe(404);

    const del = await api(t)('DELETE', `/connect/event-subscriptions/${sub.id}`, { headers: admin(tenantB) });
    expect(del.status).toBe(204);
    const gone = await api(t)('GET', `/connect/event-subscriptions/${sub.id}`, { headers: platform() });
    expect(gone.status).toBe(404);
  });

  it('refuses bad subscriptions: plain http to a public host, unknown types, an admin subscribing for another tenant', async () => {
    const cases: [Record<string, unknown>, Record<string, string>, number, string][] = [
      [
        { url: 'http://platform.example.com/hook', event_types: ['*'] },
        platform(),
        400,
        ErrorCode.ValidationFailed,
      ],
      [
        { url: 'https://platform.example.com/hook', event_types: ['connect.nope'] },
        platform(),
        400,
        ErrorCode.ValidationFailed,
      ],
      [
        { url: 'https://platform.example.com/hook', event_types: [] },
        platform(),
        400,
        ErrorCode.ValidationFailed,
      ],
      [
        { url: 'https://platform.example.com/hook', event_types: ['*'], tenant_id: tenantB },
        admin(tenantA),
        403,
        ErrorCode.Forbidden,
      ],
      [
        { url: 'https://platform.example.com/hook', event_types: ['*'] },
        viewer(tenantA),
        403,
        ErrorCode.Forbidden,
      ],
    ];
    for (const [payload, headers, status, code] of cases) {
      const res = await api(t)('POST', '/connect/event-subscriptions', { headers, body: payload });
      expect({ payload, status: res.status, code: res.body.code }).toEqual({ payload, status, code });
    }
  });

  it('scopes GET /connect/events to the caller’s tenant, with filters and cursor pagination', async () => {
    const tenantE = uniqueTenant('ev_e');
    const tenantF = uniqueTenant('ev_f');
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await emit('connect.payment.completed', tenantE, { i })).id);
    const other = await emit('connect.payment.completed', tenantF);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/connect/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(t)('GET', url, { headers: viewer(tenantE) });
      expect(res.status).toBe(200);
      const body = res.body as {
        data: { id: string; tenant_id: string }[];
        has_more: boolean;
        next_cursor: string | null;
      };
      expect(body.data.every((e) => e.tenant_id === tenantE)).toBe(true);
      pages.push(...body.data.map((e) => e.id));
      cursor = body.next_cursor;
      expect(body.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(pages).toEqual([...mine].reverse());

    const foreign = await api(t)('GET', `/connect/events/${other.id}`, { headers: viewer(tenantE) });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe(ErrorCode.NotFound);
    const own = await api(t)('GET', `/connect/events/${mine[0]}`, { headers: viewer(tenantE) });
    expect(own.body).toMatchObject({
      id: mine[0],
      tenant_id: tenantE,
      type: 'connect.payment.completed',
      data: { i: 0 },
    });
    const asked = await api(t)('GET', `/connect/events?tenant_id=${tenantF}`, { headers: viewer(tenantE) });
    expect(asked.status).toBe(403);

    const byPlatform = await api(t)<{ data: { id: string }[] }>(
      'GET',
      `/connect/events?tenant_id=${tenantF}`,
      {
        headers: platform(),
      },
    );
    expect(byPlatform.body.data.map((e) => e.id)).toEqual([other.id]);
    const filtered = await api(t)(
      'GET',
      `/connect/events?tenant_id=${tenantE}&type=connect.payment.failed&created_gte=2000-01-01T00:00:00Z`,
      { headers: platform() },
    );
    expect(filtered.body.data).toEqual([]);
    const future = await api(t)('GET', `/connect/events?created_lt=2000-01-01T00:00:00Z`, {
      headers: viewer(tenantE),
    });
    expect(future.body.data).toEqual([]);
    const badCursor = await api(t)('GET', '/connect/events?cursor=nope', { headers: viewer(tenantE) });
    expect(badCursor.status).toBe(400);
  });

  it('disables a subscription after persistent failures: new events no longer go to it until it is enabled', async () => {
    const tenantD = uniqueTenant('ev_d');
    let healthy = false;
    const r = await receiver(() => (healthy ? 200 : 503));
    const sub = await subscribe(r, admin(tenantD), { event_types: ['*'] });

    // Threshold 2 (EVENT_SUBSCRIPTION_DISABLE_AFTER): two events that fail all 3 attempts each.
    const failed = [
      await emit('connect.refund.failed', tenantD),
      await emit('connect.refund.failed', tenantD),
    ];
    const disabled = await eventually('the subscription to be disabled', async () => {
      const res = await api(t)('GET', `/connect/event-subscriptions/${sub.id}`, { headers: admin(tenantD) });
      const body = res.body as { status: string; disabled_reason: string | null };
      return body.status === 'disabled' ? body : undefined;
    });
    expect(disabled.disabled_reason).toContain('consecutive failed deliveries');
    for (const ev of failed)
      expect((await deliveriesOf(ev.id))[0]).toMatchObject({ status: 'failed', attempts: 3 });
    const seen = r.received.length;
    expect(seen).toBe(6);

    const ignored = await emit('connect.refund.completed', tenantD);
    await sleep(2000);
    expect(r.received).toHaveLength(seen);
    expect(await deliveriesOf(ignored.id)).toEqual([]);

    healthy = true;
    const enabled = await api(t)('POST', `/connect/event-subscriptions/${sub.id}/enable`, {
      headers: admin(tenantD),
    });
    expect(enabled.body).toMatchObject({
      status: 'active',
      consecutive_failures: 0,
      disabled_reason: null,
    });
    const after = await emit('connect.refund.completed', tenantD);
    await eventually('delivery after re-enabling', () =>
      r.received.some((x) => x.headers['webhook-id'] === after.id),
    );
  });

  it('exposes the delivery metrics', async () => {
    const res = await api(t)('GET', '/metrics');
    expect(res.raw).toMatch(/connect_events_emitted_total\{type="connect.payment.completed"\} \d+/);
    expect(res.raw).toMatch(/connect_event_delivery_attempts_total\{outcome="http_error"\} \d+/);
    expect(res.raw).toMatch(/connect_event_outbox_backlog \d+/);
  });
});

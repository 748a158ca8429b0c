import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import jwt from 'jsonwebtoken';
import { ErrorCode } from '@app/common';
import { Emulator, JWT_SECRET, withDb } from './harness';

/**
 * Load as Stripe and a platform backend produce it, with their retry behaviour: a webhook not acknowledged with a
 * 2xx is delivered again (as Stripe does), a payment answered 503 or cut off is sent again with the same
 * Idempotency-Key (as a careful client does). Every answer is counted; the checks below compare what was
 * acknowledged with what the database and the emulator hold.
 */

export interface Tally {
  /** Every HTTP status seen (0: no answer: connection refused, reset, or no answer within the client timeout). */
  statuses: Record<string, number>;
  /** Answers that break the contract: a 500, or a 5xx that is not a ServiceError 503. */
  violations: string[];
  /** Requests cut off after they were accepted (reset / closed mid-request), as opposed to refused connections. */
  cutOff: number;
}

export const newTally = (): Tally => ({ statuses: {}, violations: [], cutOff: 0 });

export function summary(t: Tally): string {
  return Object.entries(t.statuses)
    .sort()
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
}

const SERVICE_UNAVAILABLE = new Set<string>([ErrorCode.ServiceUnavailable, ErrorCode.RequestTimeout]);

async function send(
  tally: Tally,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = null;
    }
    tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500 && !(res.status === 503 && body && SERVICE_UNAVAILABLE.has(String(body.code)))) {
      tally.violations.push(`${init.method} ${new URL(url).pathname}: ${res.status} ${text.slice(0, 300)}`);
    }
    return { status: res.status, body };
  } catch (err) {
    tally.statuses['0'] = (tally.statuses['0'] ?? 0) + 1;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    // Refused = never accepted (fine: the sender retries). Anything else after connecting = a request cut off.
    if (cause !== 'ECONNREFUSED') tally.cutOff++;
    return { status: 0, body: null };
  }
}

export interface TrafficOptions {
  /** Where to send now (a function, so a rolling deploy can move traffic to the new replica). */
  baseUrl: () => string;
  tenant: string;
  account: string;
  connectSecret: string;
  /** Client timeout: REQUEST_TIMEOUT_MS plus slack; no answer by then counts as no answer. */
  timeoutMs: number;
}

/** The options every scenario's traffic takes: the world's tenant and Connect secret, sent wherever `baseUrl` says. */
export function trafficTo(
  world: { tenant: string; account: string; secrets: { connect: string } },
  baseUrl: () => string,
  timeoutMs: number,
): TrafficOptions {
  return {
    baseUrl,
    tenant: world.tenant,
    account: world.account,
    connectSecret: world.secrets.connect,
    timeoutMs,
  };
}

export interface WebhookTraffic {
  tally: Tally;
  /** Event ids answered 2xx at least once. */
  acknowledged: Set<string>;
  /** Event ids sent but never acknowledged (the sender gave up): not lost, Stripe would still hold them. */
  unacknowledged: Set<string>;
  stop(): Promise<void>;
}

/** `concurrency` senders, each delivering new signed events one after another, redelivering until 2xx. */
export function webhookTraffic(o: TrafficOptions, concurrency: number, prefix: string): WebhookTraffic {
  const tally = newTally();
  const acknowledged = new Set<string>();
  const unacknowledged = new Set<string>();
  let stopping = false;
  let n = 0;
  const sender = async () => {
    while (!stopping) {
      const id = `evt_${prefix}_${(n++).toString(36)}_${randomUUID().slice(0, 8)}`;
      // A handled type on the tenant's account: processing resolves the tenant and emits connect.webhook.received.
      const payload = JSON.stringify({
        id,
        object: 'event',
        account: o.account,
        api_version: '2026-10-28.endive',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: `pi_${id.slice(4, 28)}`, object: 'payment_intent', metadata: {} } },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'payment_intent.succeeded',
      });
      // Redelivered until acknowledged; after the load stops, a few more tries (the database may be back).
      let afterStop = 0;
      for (let attempt = 0; ; attempt++) {
        const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: o.connectSecret });
        const { status } = await send(
          tally,
          `${o.baseUrl()}/connect/webhooks`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'stripe-signature': signature },
            body: payload,
          },
          o.timeoutMs,
        );
        if (status >= 200 && status < 300) {
          acknowledged.add(id);
          break;
        }
        if (stopping && ++afterStop > 15) {
          unacknowledged.add(id);
          break;
        }
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 4), 1000));
      }
    }
  };
  const senders = Array.from({ length: concurrency }, () => sender());
  return {
    tally,
    acknowledged,
    unacknowledged,
    stop: async () => {
      stopping = true;
      await Promise.all(senders);
    },
  };
}

export interface PaymentTraffic {
  tally: Tally;
  /** Route ids answered 201 (created, PaymentIntent known). */
  created: Set<string>;
  /** Route ids answered 202 (outcome unknown, a job resolves it). */
  pending: Set<string>;
  /** Idempotency keys never answered 201/202 (the client gave up). */
  unanswered: number;
  stop(): Promise<void>;
  /** Resolves once `count` payments were sent and answered (with `count`), or after stop(). */
  finished: Promise<void>;
}

export function platformToken(): string {
  return jwt.sign(
    { roles: ['platform'], scope: 'accounts:read accounts:write payments:read payments:write webhooks:read' },
    JWT_SECRET,
    { algorithm: 'HS256', subject: 'faults-platform', expiresIn: '1h' },
  );
}

/** `concurrency` clients creating payments one after another, resending with the same key on 503 or no answer. */
export function paymentTraffic(
  o: TrafficOptions,
  concurrency: number,
  opts: { count?: number } = {},
): PaymentTraffic {
  const tally = newTally();
  const created = new Set<string>();
  const pending = new Set<string>();
  const token = platformToken();
  let stopping = false;
  let started = 0;
  const result: PaymentTraffic = {
    tally,
    created,
    pending,
    unanswered: 0,
    stop: async () => undefined,
    finished: Promise.resolve(),
  };
  const client = async () => {
    while (!stopping && (opts.count === undefined || started < opts.count)) {
      started++;
      const key = randomUUID();
      const body = JSON.stringify({
        tenant_id: o.tenant,
        payment_data: {
          amount: 1000 + (started % 5000),
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
        },
      });
      for (let attempt = 0; ; attempt++) {
        const { status, body: answer } = await send(
          tally,
          `${o.baseUrl()}/connect/payments`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${token}`,
              'idempotency-key': key,
            },
            body,
          },
          o.timeoutMs,
        );
        const id = typeof answer?.id === 'string' ? answer.id : null;
        if (status === 201 && id) {
          created.add(id);
          pending.delete(id);
          break;
        }
        if (status === 202 && id) {
          // Accepted with its outcome unknown: the reconcile job resolves it by the route's idempotency key.
          pending.add(id);
          break;
        }
        // 409: the first attempt with this key is still in flight (a request cut off server-side keeps running).
        if (status !== 0 && status !== 503 && status !== 409 && status !== 202) {
          tally.violations.push(`payment answered ${status}: ${JSON.stringify(answer).slice(0, 300)}`);
          break;
        }
        if (attempt > 40) {
          result.unanswered++;
          break;
        }
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 4), 1000));
      }
    }
  };
  const clients = Array.from({ length: concurrency }, () => client());
  result.finished = Promise.all(clients).then(() => undefined);
  result.stop = async () => {
    stopping = true;
    await Promise.all(clients);
  };
  return result;
}

// ------------------------------------------------------------------------------------------------ checks

export interface WebhookCheck {
  acknowledged: number;
  stored: number;
  processedOnce: number;
  /** Acknowledged events missing from the inbox, not processed, or whose effect ran other than once. */
  problems: string[];
}

/** Waits (up to `timeoutMs`) until every acknowledged event is processed, then checks each took effect once. */
export async function checkWebhooks(
  databaseUrl: string,
  acknowledged: Set<string>,
  timeoutMs = 90_000,
): Promise<WebhookCheck> {
  const ids = [...acknowledged];
  return withDb(databaseUrl, async (db) => {
    const deadline = Date.now() + timeoutMs;
    let rows: Array<{ stripe_event_id: string; status: string; received: number }> = [];
    for (;;) {
      ({ rows } = await db.query(
        `SELECT e.stripe_event_id, e.status,
                (SELECT count(*)::int FROM connect_events c
                  WHERE c.type = 'connect.webhook.received' AND c.data->>'stripe_event_id' = e.stripe_event_id) AS received
           FROM stripe_webhook_events e WHERE e.stripe_event_id = ANY($1)`,
        [ids],
      ));
      if (
        (rows.length === ids.length && rows.every((r) => r.status === 'processed')) ||
        Date.now() > deadline
      )
        break;
      await sleep(500);
    }
    const byId = new Map(rows.map((r) => [r.stripe_event_id, r]));
    const problems: string[] = [];
    let processedOnce = 0;
    for (const id of ids) {
      const row = byId.get(id);
      if (!row) problems.push(`${id}: acknowledged but not in the inbox`);
      else if (row.status !== 'processed') problems.push(`${id}: ${row.status}`);
      else if (row.received !== 1) problems.push(`${id}: effect applied ${row.received} times`);
      else processedOnce++;
    }
    return { acknowledged: ids.length, stored: rows.length, processedOnce, problems: problems.slice(0, 20) };
  });
}

export interface PaymentCheck {
  created: number;
  recorded: number;
  paymentIntents: number;
  problems: string[];
}

/**
 * Every 201 payment is in payment_routes with its PaymentIntent; the emulator holds at most one PaymentIntent per
 * route (the idempotency key derived from the route held through every retry and fault); `pending` (202) routes
 * are resolved by the reconcile job to one PaymentIntent as well.
 */
export async function checkPayments(
  databaseUrl: string,
  emulator: Emulator,
  account: string,
  created: Set<string>,
  pending: Set<string> = new Set(),
  timeoutMs = 60_000,
): Promise<PaymentCheck> {
  const problems: string[] = [];
  const ids = [...created, ...pending];
  const rows = await withDb(databaseUrl, async (db) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{
        id: string;
        stripe_payment_intent_id: string | null;
        status: string;
      }>(`SELECT id, stripe_payment_intent_id, status FROM payment_routes WHERE id = ANY($1::uuid[])`, [ids]);
      if (rows.every((r) => r.stripe_payment_intent_id) || Date.now() > deadline) return rows;
      await sleep(500);
    }
  });
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) problems.push(`${id}: answered but not recorded`);
    else if (!row.stripe_payment_intent_id) problems.push(`${id}: no PaymentIntent recorded (${row.status})`);
  }
  const perRoute = new Map<string, string[]>();
  let paymentIntents = 0;
  for await (const pi of emulator.stripe.paymentIntents.list({ limit: 100 }, { stripeAccount: account })) {
    paymentIntents++;
    const route = pi.metadata?.payment_route_id;
    if (route) perRoute.set(route, [...(perRoute.get(route) ?? []), pi.id]);
  }
  for (const [route, pis] of perRoute)
    if (pis.length > 1) problems.push(`${route}: ${pis.length} PaymentIntents`);
  // Every PaymentIntent at Stripe is recorded on its route: none was charged while the service lost track of it.
  const recorded = await withDb(databaseUrl, async (db) => {
    const { rows: all } = await db.query<{ id: string; stripe_payment_intent_id: string | null }>(
      `SELECT id, stripe_payment_intent_id FROM payment_routes WHERE id = ANY($1::uuid[])`,
      [[...perRoute.keys()]],
    );
    return new Map(all.map((r) => [r.id, r.stripe_payment_intent_id]));
  });
  for (const [route, pis] of perRoute) {
    if (recorded.get(route) !== pis[0])
      problems.push(`${route}: PaymentIntent ${pis[0]} at Stripe, route records ${recorded.get(route)}`);
  }
  for (const id of ids) {
    const pis = perRoute.get(id) ?? [];
    const row = byId.get(id);
    if (row?.stripe_payment_intent_id && !pis.includes(row.stripe_payment_intent_id))
      problems.push(`${id}: recorded PaymentIntent ${row.stripe_payment_intent_id} not at Stripe`);
  }
  return { created: created.size, recorded: rows.length, paymentIntents, problems: problems.slice(0, 20) };
}

/** `concurrency` readers of `path` (as the platform), one GET after another; anything but 200 is counted. */
export function readTraffic(
  o: TrafficOptions,
  concurrency: number,
  path: string,
): { tally: Tally; ok: () => number; stop(): Promise<void> } {
  const tally = newTally();
  const token = platformToken();
  let stopping = false;
  const reader = async () => {
    while (!stopping) {
      await send(
        tally,
        `${o.baseUrl()}${path}`,
        { method: 'GET', headers: { authorization: `Bearer ${token}` } },
        o.timeoutMs,
      );
      await sleep(20);
    }
  };
  const readers = Array.from({ length: concurrency }, () => reader());
  return {
    tally,
    ok: () => tally.statuses['200'] ?? 0,
    stop: async () => {
      stopping = true;
      await Promise.all(readers);
    },
  };
}

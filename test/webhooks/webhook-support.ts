import net from 'node:net';
import Stripe from 'stripe';
import { DataSource, EntityManager } from 'typeorm';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { isStaleEvent } from '../../apps/connect-service/src/webhooks/event-ordering';
import { WebhookHandler } from '../../apps/connect-service/src/webhooks/webhook-handler.registry';
import { WEBHOOK_PROCESS_QUEUE } from '../../apps/connect-service/src/webhooks/webhooks.queues';
import { uniqueTenant } from '../support/app';
import { eventually } from '../utils/eventually';

/** Secrets the suites configure, so they can sign events themselves (as Stripe would). */
export const PLATFORM_SECRET = 'whsec_e2e_platform_0123456789abcdef';
export const CONNECT_SECRET = 'whsec_e2e_connect_0123456789abcdef';

/**
 * The machinery's own observable effect (the onboarding and payments handlers come from their modules): a
 * customer's name, stale-checked like a real handler, plus one row per applied event so doubles would show.
 * Lives in its own schema so the entity/migration comparison of the database suite never sees it.
 */
export async function createTestEffectTables(
  ds: { query(sql: string): Promise<unknown> },
  schema: string,
): Promise<void> {
  await ds.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await ds.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.customers (customer_id text PRIMARY KEY, tenant_id text NOT NULL, name text,
       last_event_created bigint, last_event_id text)`,
  );
  await ds.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.effects (seq bigserial PRIMARY KEY, stripe_event_id text NOT NULL,
       tenant_id text NOT NULL, inbox_id uuid NOT NULL)`,
  );
}

export function customerNameHandler(schema: string, hooks: { failNext?: number } = {}): WebhookHandler {
  return async ({ manager, event, tenantId, inboxId }) => {
    const customer = event.data.object as { id: string; name?: string | null };
    if (hooks.failNext && hooks.failNext > 0) {
      hooks.failNext--;
      // Written first, so the rollback is what keeps it from counting.
      await record(manager, schema, event.id, tenantId, inboxId);
      throw new Error('handler exploded on purpose');
    }
    const rows: Array<{ last_event_created: string | null; last_event_id: string | null }> =
      await manager.query(
        `SELECT last_event_created, last_event_id FROM ${schema}.customers WHERE customer_id = $1 FOR UPDATE`,
        [customer.id],
      );
    const last = rows[0]
      ? {
          created: rows[0].last_event_created === null ? null : Number(rows[0].last_event_created),
          id: rows[0].last_event_id,
        }
      : { created: null, id: null };
    if (isStaleEvent(last, { created: event.created, id: event.id })) return 'stale';
    await manager.query(
      `INSERT INTO ${schema}.customers (customer_id, tenant_id, name, last_event_created, last_event_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (customer_id) DO UPDATE SET name = $3, last_event_created = $4, last_event_id = $5`,
      [customer.id, tenantId, customer.name ?? null, event.created, event.id],
    );
    await record(manager, schema, event.id, tenantId, inboxId);
    return 'applied';
  };
}

async function record(
  manager: EntityManager,
  schema: string,
  eventId: string,
  tenantId: string,
  inboxId: string,
) {
  await manager.query(
    `INSERT INTO ${schema}.effects (stripe_event_id, tenant_id, inbox_id) VALUES ($1, $2, $3)`,
    [eventId, tenantId, inboxId],
  );
}

/** An express account in the emulator and the tenant's ConnectAccount row pointing at it. */
export async function connectTenant(
  ds: DataSource,
  gateway: StripeGateway,
  tenantId = uniqueTenant('wh'),
): Promise<{ tenantId: string; accountId: string }> {
  const account = await gateway.createAccount({ type: 'express', country: 'US' });
  await insertConnectAccount(ds, tenantId, account.id);
  return { tenantId, accountId: account.id };
}

export async function insertConnectAccount(
  ds: DataSource,
  tenantId: string,
  accountId: string,
): Promise<void> {
  await ds.getRepository(ConnectAccountEntity).insert({
    tenant_id: tenantId,
    stripe_account_id: accountId,
    status: ConnectAccountStatus.Active,
    onboarding_method: OnboardingMethod.AccountLink,
    account_type: StripeAccountType.Express,
  });
}

export interface InboxRow {
  id: string;
  stripe_event_id: string;
  status: string;
  outcome: string | null;
  attempts: number;
  last_error: string | null;
  source: string;
  tenant_id: string | null;
}

export async function inboxRows(ds: DataSource, stripeEventId: string): Promise<InboxRow[]> {
  return ds.query(
    `SELECT id, stripe_event_id, status, outcome, attempts, last_error, source, tenant_id
     FROM stripe_webhook_events WHERE stripe_event_id = $1`,
    [stripeEventId],
  );
}

export async function inboxRowWhere(
  ds: DataSource,
  stripeEventId: string,
  predicate: (row: InboxRow) => boolean,
  what: string,
): Promise<InboxRow> {
  return eventually(`${stripeEventId}: ${what}`, async () => {
    const [row] = await inboxRows(ds, stripeEventId);
    return row && predicate(row) ? row : null;
  });
}

export async function countEffects(ds: DataSource, schema: string, stripeEventId: string): Promise<number> {
  const rows: Array<{ n: number }> = await ds.query(
    `SELECT count(*)::int AS n FROM ${schema}.effects WHERE stripe_event_id = $1`,
    [stripeEventId],
  );
  return rows[0].n;
}

export async function countReceivedEvents(ds: DataSource, stripeEventId: string): Promise<number> {
  const rows: Array<{ n: number }> = await ds.query(
    `SELECT count(*)::int AS n FROM connect_events WHERE type = 'connect.webhook.received' AND data->>'stripe_event_id' = $1`,
    [stripeEventId],
  );
  return rows[0].n;
}

/** A Stripe event body, as Stripe would render it. */
export function eventBody(e: {
  id?: string;
  type: string;
  account?: string;
  created?: number;
  livemode?: boolean;
  object: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: e.id ?? `evt_e2e_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`,
    object: 'event',
    ...(e.account ? { account: e.account } : {}),
    api_version: '2026-10-28.endive',
    created: e.created ?? Math.floor(Date.now() / 1000),
    data: { object: e.object },
    livemode: e.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: e.type,
  };
}

/** Posts an event signed with `secret` (timestamp in unix seconds; default now), as Stripe delivers it. */
export async function deliver(
  baseUrl: string,
  body: Record<string, unknown>,
  opts: { secret?: string | null; timestamp?: number; signature?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = JSON.stringify(body, null, 2);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (opts.signature !== undefined) headers['stripe-signature'] = opts.signature;
  else if (opts.secret !== null) {
    headers['stripe-signature'] = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: opts.secret ?? CONNECT_SECRET,
      timestamp: opts.timestamp,
    });
  }
  const res = await fetch(`${baseUrl}/connect/webhooks`, { method: 'POST', headers, body: payload });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * A TCP proxy in front of PostgreSQL: stopping it is a database outage as the service sees one (connections
 * cut, new ones refused), and starting it again on the same port is the recovery.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<{
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    start: listen,
  };
}

/**
 * Stores events in the inbox with their processing jobs in ONE statement (as the intake's own statement does for
 * one event), so a worker polling the queue finds them all in its next batch. `copies`: jobs for the same row
 * (duplicates a replay or a retry could leave). Answers the inbox ids in the order given.
 */
export async function storeBacklog(
  ds: DataSource,
  jobs: JobQueue,
  events: Array<{ body: Record<string, unknown>; copies?: number }>,
): Promise<string[]> {
  const rows = events.map(({ body, copies }) => ({
    stripe_event_id: body.id,
    type: body.type,
    account: body.account ?? null,
    livemode: body.livemode ?? false,
    created: body.created,
    payload: body,
    copies: copies ?? 1,
  }));
  const stored: Array<{ id: string; stripe_event_id: string }> = await ds.query(
    `WITH src AS (
        SELECT * FROM json_to_recordset($1::json)
          AS x(stripe_event_id text, type text, account text, livemode boolean, created bigint, payload jsonb, copies int)),
      inbox AS (
        INSERT INTO stripe_webhook_events (stripe_event_id, type, stripe_account_id, livemode, event_created, payload, status, source)
        SELECT stripe_event_id, type, account, livemode, created, payload, 'received', 'webhook' FROM src
        RETURNING id, stripe_event_id),
      copies AS (
        SELECT inbox.id FROM inbox JOIN src USING (stripe_event_id) CROSS JOIN LATERAL generate_series(1, src.copies)),
      job AS (${jobs.insertJobsFromSql(WEBHOOK_PROCESS_QUEUE, 'copies', "jsonb_build_object('inboxId', copies.id)")})
      SELECT id, stripe_event_id FROM inbox`,
    [JSON.stringify(rows)],
  );
  return events.map(({ body }) => stored.find((r) => r.stripe_event_id === body.id)!.id);
}

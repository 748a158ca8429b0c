import Stripe from 'stripe';
import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';
import { AppModule } from '../../apps/connect-service/src/app.module';
import { WebhookHandlerRegistry } from '../../apps/connect-service/src/webhooks/webhook-handler.registry';
import { WebhooksModule } from '../../apps/connect-service/src/webhooks/webhooks.module';
import { bootTestApp, TestApp } from '../support/app';
import {
  CONNECT_SECRET,
  connectTenant,
  countEffects,
  countReceivedEvents,
  createTestEffectTables,
  customerNameHandler,
  deliver,
  eventBody,
  inboxRows,
  inboxRowWhere,
  PLATFORM_SECRET,
  startTcpProxy,
} from './webhook-support';
import { ErrorCode } from '@app/common';
import { eventually } from '../utils/eventually';
import { api } from '../support/http';

const SCHEMA = 'wh_resilience_e2e';
const BASE_DATABASE_URL = process.env.DATABASE_URL;
const SECRETS = { STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET, STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET };

function jobSchema(): string {
  return `jobs_wh_${Math.random().toString(36).slice(2, 10)}`;
}

/** Registers the test handler the way feature modules do: in onModuleInit, before any worker starts. */
@Injectable()
class TestHandlers implements OnModuleInit {
  constructor(private readonly registry: WebhookHandlerRegistry) {}

  onModuleInit(): void {
    this.registry.register(['customer.created', 'customer.updated'], customerNameHandler(SCHEMA));
  }
}

@Module({ imports: [AppModule, WebhooksModule], providers: [TestHandlers] })
class AppWithTestHandlers {}

async function bootWithHandler(
  env: Record<string, string | undefined>,
  opts: { listen?: boolean; registerWebhooks?: boolean } = { listen: true },
): Promise<TestApp> {
  // bootTestApp's overrides stay in process.env while an app is open: pin what another open app may have changed.
  return bootTestApp(
    {
      ...SECRETS,
      WORKERS_ENABLED: 'true',
      DATABASE_URL: BASE_DATABASE_URL,
      STRIPE_SECRET_KEY: undefined,
      STRIPE_API_BASE: undefined,
      ...env,
    },
    AppWithTestHandlers,
    opts,
  );
}

describe('webhooks: replicas, database outage and backfill', () => {
  const open: TestApp[] = [];
  let emulator: RunningEmulator | undefined;

  beforeAll(async () => {
    const client = new Client({ connectionString: BASE_DATABASE_URL });
    await client.connect();
    await createTestEffectTables(client, SCHEMA);
    await client.end();
  });

  afterAll(async () => {
    for (const t of open.reverse()) await t.close().catch(() => undefined);
    await emulator?.close();
  });

  it('two instances on one database, both receiving every delivery: each event processed once', async () => {
    const schema = jobSchema();
    const a = await bootWithHandler({ JOB_QUEUE_SCHEMA: schema }, { listen: true, registerWebhooks: true });
    open.push(a);
    // B talks to A's emulator as its Stripe and registers its own endpoints there: every event goes to both.
    const b = await bootWithHandler(
      { JOB_QUEUE_SCHEMA: schema, STRIPE_SECRET_KEY: 'sk_test_emulator', STRIPE_API_BASE: a.emulatorUrl },
      { listen: true, registerWebhooks: true },
    );
    open.push(b);
    const ds = a.app.get(DataSource);
    const gateway = a.app.get(StripeGateway);
    const { accountId } = await connectTenant(ds, gateway);

    const N = 20;
    const customers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        gateway.createCustomer({ name: `c${i}` }, { stripeAccount: accountId }),
      ),
    );
    const eventIds = await eventually('all customer.created events', async () => {
      const list = await gateway.listEvents({
        stripeAccount: accountId,
        types: ['customer.created'],
        limit: 100,
      });
      return list.data.length === N ? list.data.map((e) => e.id) : null;
    });

    for (const id of eventIds) await inboxRowWhere(ds, id, (r) => r.status === 'processed', 'processed');
    const deliveries: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM stripe_webhook_events WHERE stripe_event_id = ANY($1)`,
      [eventIds],
    );
    expect(deliveries[0].n).toBe(N);
    for (const id of eventIds) {
      expect(await countEffects(ds, SCHEMA, id)).toBe(1);
      expect(await countReceivedEvents(ds, id)).toBe(1);
    }
    const names: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.customers WHERE customer_id = ANY($1)`,
      [customers.map((c) => c.id)],
    );
    expect(names[0].n).toBe(N);
    await b.close();
    open.pop();
  });

  it('database down during intake: 503 and nothing acknowledged; after recovery every acknowledged event is processed', async () => {
    const schema = jobSchema();
    const dbUrl = new URL(process.env.DATABASE_URL!);
    const proxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
    const proxiedUrl = new URL(dbUrl);
    proxiedUrl.host = `127.0.0.1:${proxy.port}`;
    // The intake instance reaches PostgreSQL through the proxy and runs no workers, so what it acknowledges is
    // still waiting when the database goes away.
    const intake = await bootWithHandler({
      JOB_QUEUE_SCHEMA: schema,
      WORKERS_ENABLED: 'false',
      DATABASE_URL: proxiedUrl.toString(),
    });
    open.push(intake);
    const ds = intake.app.get(DataSource);
    const { accountId } = await connectTenant(ds, intake.app.get(StripeGateway));
    const acknowledged = eventBody({
      type: 'customer.created',
      account: accountId,
      object: { id: `cus_ack_${Date.now()}`, object: 'customer', name: 'Ack' },
    });
    expect(await deliver(intake.baseUrl!, acknowledged)).toMatchObject({
      status: 200,
      json: { received: true },
    });

    await proxy.stop();
    const refused = eventBody({
      type: 'customer.created',
      account: accountId,
      object: { id: `cus_refused_${Date.now()}`, object: 'customer', name: 'Refused' },
    });
    const res = await deliver(intake.baseUrl!, refused);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: ErrorCode.ServiceUnavailable, http_status: 503 });

    // Recovery: the same instance takes Stripe's retry of the refused delivery; a worker instance on the same
    // queue processes everything that was acknowledged.
    await proxy.start();
    const retried = await eventually('intake back after the outage', async () => {
      const r = await deliver(intake.baseUrl!, refused);
      return r.status === 200 ? r : null;
    });
    expect(retried.json).toEqual({ received: true, duplicate: false });
    const worker = await bootWithHandler({ JOB_QUEUE_SCHEMA: schema }, { listen: false });
    open.push(worker);
    const ds2 = worker.app.get(DataSource);
    for (const e of [acknowledged, refused]) {
      const row = await inboxRowWhere(
        ds2,
        e.id as string,
        (r) => r.status === 'processed',
        'processed after recovery',
      );
      expect(row.outcome).toBe('applied');
      expect(await countEffects(ds2, SCHEMA, e.id as string)).toBe(1);
    }
    await worker.close();
    open.pop();
    await intake.close();
    open.pop();
    await proxy.stop();
  });

  it('service down while Stripe produced events: backfill brings them in (and only them)', async () => {
    // A Stripe of its own that outlives the service instances; failed deliveries are not retried soon.
    emulator = await startStripeEmulator({
      port: 0,
      logger: () => undefined,
      webhookRetry: { initialDelayMs: 600_000, maxAttempts: 1 },
    });
    const stripeEnv = { STRIPE_SECRET_KEY: 'sk_test_emulator', STRIPE_API_BASE: emulator.url };
    const first = await bootWithHandler(stripeEnv, { listen: true, registerWebhooks: true });
    open.push(first);
    const ds = first.app.get(DataSource);
    const gateway = first.app.get(StripeGateway);
    const { accountId, tenantId } = await connectTenant(ds, gateway);
    const before = await gateway.createCustomer({ name: 'before' }, { stripeAccount: accountId });
    const seen = await eventually('event before the outage', async () => {
      const list = await gateway.listEvents({ stripeAccount: accountId, types: ['customer.created'] });
      return list.data[0];
    });
    await inboxRowWhere(ds, seen.id, (r) => r.status === 'processed', 'delivered before the outage');
    await first.close();
    open.pop();

    // The outage: Stripe keeps producing events; their deliveries fail.
    const port = Number(new URL(emulator.url).port);
    const stripe = new Stripe('sk_test_emulator', {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const missed = [];
    for (let i = 0; i < 3; i++)
      missed.push(await stripe.customers.create({ name: `missed${i}` }, { stripeAccount: accountId }));
    const missedEvents = await eventually('events produced during the outage', async () => {
      const list = await stripe.events.list({ types: ['customer.created'] }, { stripeAccount: accountId });
      return list.data.length === 4 ? list.data.filter((e) => e.id !== seen.id) : null;
    });

    const second = await bootWithHandler(stripeEnv, { listen: true });
    open.push(second);
    const ds2 = second.app.get(DataSource);
    for (const e of missedEvents) expect(await inboxRows(ds2, e.id)).toHaveLength(0);

    const token = second.token({ roles: ['platform'] });
    const backfill = () =>
      api(second)<{ scanned: number; inserted: number; duplicates: number; failed_accounts: unknown[] }>(
        'POST',
        '/connect/webhooks/backfill',
        { token, body: { since: new Date(Date.now() - 3_600_000).toISOString() } },
      );
    const res = await backfill();
    expect(res.status).toBe(200);
    const counts = res.body;
    // Other suites' accounts share the database but not this Stripe: they may fail to list, ours may not.
    expect(counts.failed_accounts).not.toContainEqual(
      expect.objectContaining({ stripe_account_id: accountId }),
    );
    expect(counts.inserted).toBeGreaterThanOrEqual(3);
    expect(counts.duplicates).toBeGreaterThanOrEqual(1);

    for (const e of missedEvents) {
      const row = await inboxRowWhere(ds2, e.id, (r) => r.status === 'processed', 'backfilled and processed');
      expect(row).toMatchObject({ source: 'backfill', tenant_id: tenantId, outcome: 'applied' });
    }
    const names: Array<{ name: string }> = await ds2.query(
      `SELECT name FROM ${SCHEMA}.customers WHERE customer_id = ANY($1) ORDER BY name`,
      [[before.id, ...missed.map((c) => c.id)]],
    );
    expect(names.map((n) => n.name)).toEqual(['before', 'missed0', 'missed1', 'missed2']);

    // Running it again finds nothing new.
    expect((await backfill()).body.inserted).toBe(0);
  });
});

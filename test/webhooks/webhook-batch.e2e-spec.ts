import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import {
  WebhookHandler,
  WebhookHandlerRegistry,
} from '../../apps/connect-service/src/webhooks/webhook-handler.registry';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { eventually } from '../utils/eventually';
import {
  connectTenant,
  countEffects,
  countReceivedEvents,
  createTestEffectTables,
  customerNameHandler,
  eventBody,
  inboxRows,
  inboxRowWhere,
  InboxRow,
  PLATFORM_SECRET,
  storeBacklog,
} from './webhook-support';

const SCHEMA = 'wh_batch_e2e';

/**
 * Processing by batch: a backlog stored in one statement is what a worker finds in one fetch, so these cases run
 * whole batches through the real queue, database and emulator.
 */
describe('webhooks: batch processing (one fetch, a transaction per event)', () => {
  let t: TestApp;
  let ds: DataSource;
  let gateway: StripeGateway;
  let jobs: JobQueue;
  let schema: string;
  const failing = new Map<string, number>();
  let unregister: () => void;

  beforeAll(async () => {
    t = await bootTestApp({ STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET });
    ds = t.app.get(DataSource);
    gateway = t.app.get(StripeGateway);
    jobs = t.app.get(JobQueue);
    schema = process.env.JOB_QUEUE_SCHEMA!;
    await createTestEffectTables(ds, SCHEMA);
    const names = customerNameHandler(SCHEMA);
    // Fails the events named in `failing` as many times as their count says, after writing an effect (so the
    // rollback is what keeps it from counting).
    const handler: WebhookHandler = async (ctx) => {
      const left = failing.get(ctx.event.id) ?? 0;
      if (left > 0) {
        failing.set(ctx.event.id, left - 1);
        await ctx.manager.query(
          `INSERT INTO ${SCHEMA}.effects (stripe_event_id, tenant_id, inbox_id) VALUES ($1, $2, $3)`,
          [ctx.event.id, ctx.tenantId, ctx.inboxId],
        );
        throw new Error('handler exploded on purpose');
      }
      return names(ctx);
    };
    unregister = t.app.get(WebhookHandlerRegistry).register(['customer.created'], handler);
  });

  afterAll(async () => {
    unregister?.();
    await ds?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await t?.close();
  });

  const customerEvent = (account: string, name: string) =>
    eventBody({
      type: 'customer.created',
      account,
      object: { id: `cus_${name}_${Math.random().toString(36).slice(2, 10)}`, object: 'customer', name },
    });

  async function jobsOf(inboxId: string): Promise<Array<{ state: string; retry_count: number }>> {
    return ds.query(
      `SELECT state, retry_count FROM ${schema}.job WHERE name = 'webhooks.process-stripe-event' AND data->>'inboxId' = $1`,
      [inboxId],
    );
  }

  it('one failing event in a batch rolls back only itself: the others commit and complete, its retry applies it once', async () => {
    const { accountId } = await connectTenant(ds, gateway);
    const other = await connectTenant(ds, gateway);
    const events = [
      customerEvent(accountId, 'a'),
      customerEvent(accountId, 'b'),
      customerEvent(other.accountId, 'c'),
      customerEvent(other.accountId, 'd'),
    ];
    failing.set(events[1].id as string, 1);
    const ids = await storeBacklog(
      ds,
      jobs,
      events.map((body) => ({ body })),
    );

    const failed = await inboxRowWhere(ds, events[1].id as string, (r) => r.status === 'failed', 'failed');
    expect(failed).toMatchObject({ attempts: 1 });
    expect(failed.last_error).toContain('handler exploded on purpose');
    for (const i of [0, 2, 3]) {
      const row = await inboxRowWhere(
        ds,
        events[i].id as string,
        (r) => r.status === 'processed',
        'processed',
      );
      expect(row).toMatchObject({ outcome: 'applied', attempts: 1 });
      expect(await countEffects(ds, SCHEMA, events[i].id as string)).toBe(1);
      await eventually('job completed', async () => (await jobsOf(ids[i]))[0]?.state === 'completed');
    }
    // The failed event's job waits for its retry (pg-boss backoff) while the others are done.
    expect((await inboxRows(ds, events[1].id as string))[0].status).toBe('failed');

    const retried = await inboxRowWhere(
      ds,
      events[1].id as string,
      (r) => r.status === 'processed',
      'processed on retry',
    );
    expect(retried).toMatchObject({ outcome: 'applied', attempts: 2, last_error: null });
    await eventually('retried job completed', async () => {
      const [job] = await jobsOf(ids[1]);
      return job?.state === 'completed' && job.retry_count === 1;
    });
    for (const e of events) {
      expect(await countEffects(ds, SCHEMA, e.id as string)).toBe(1);
      expect(await countReceivedEvents(ds, e.id as string)).toBe(1);
    }
  });

  it('duplicate jobs of one event, in one batch, process it once', async () => {
    const { accountId } = await connectTenant(ds, gateway);
    const dup = customerEvent(accountId, 'dup');
    const single = customerEvent(accountId, 'single');
    const [dupId] = await storeBacklog(ds, jobs, [{ body: dup, copies: 3 }, { body: single }]);

    await inboxRowWhere(ds, single.id as string, (r) => r.status === 'processed', 'processed');
    const row = await inboxRowWhere(ds, dup.id as string, (r) => r.status === 'processed', 'processed');
    expect(row).toMatchObject({ outcome: 'applied', attempts: 1 });
    await eventually('all three jobs completed', async () => {
      const all = await jobsOf(dupId);
      return all.length === 3 && all.every((j) => j.state === 'completed');
    });
    expect(await countEffects(ds, SCHEMA, dup.id as string)).toBe(1);
    expect(await countReceivedEvents(ds, dup.id as string)).toBe(1);
  });

  it('settles the events no handler takes together, each with its own outcome and tenant', async () => {
    const { accountId, tenantId } = await connectTenant(ds, gateway);
    const metadataTenant = uniqueTenant('wh_meta');
    const noHandler = eventBody({
      type: 'balance.available',
      account: accountId,
      object: { object: 'balance' },
    });
    const unknown = eventBody({
      type: 'balance.available',
      account: `acct_nobody_${Date.now()}`,
      object: { object: 'balance' },
    });
    const otherMode = eventBody({
      type: 'customer.created',
      account: accountId,
      livemode: true,
      object: { id: 'cus_live_batch', object: 'customer' },
    });
    const platform = eventBody({
      type: 'product.created',
      object: { id: 'prod_batch', object: 'product', metadata: { tenant_id: metadataTenant } },
    });
    await storeBacklog(
      ds,
      jobs,
      [noHandler, unknown, otherMode, platform].map((body) => ({ body })),
    );

    const settled = (id: unknown) =>
      inboxRowWhere(ds, id as string, (r) => r.status !== 'received', 'settled');
    const expectRow = (row: InboxRow, expected: Partial<InboxRow>) =>
      expect(row).toMatchObject({ attempts: 1, last_error: null, ...expected });
    expectRow(await settled(noHandler.id), { status: 'ignored', outcome: 'no_handler', tenant_id: tenantId });
    expectRow(await settled(unknown.id), { status: 'unmatched', outcome: 'unmatched', tenant_id: null });
    expectRow(await settled(otherMode.id), {
      status: 'ignored',
      outcome: 'livemode_mismatch',
      tenant_id: null,
    });
    expectRow(await settled(platform.id), {
      status: 'ignored',
      outcome: 'no_handler',
      tenant_id: metadataTenant,
    });
    const stamped: Array<{ stripe_event_id: string; processed: boolean }> = await ds.query(
      `SELECT stripe_event_id, processed_at IS NOT NULL AS processed FROM stripe_webhook_events
        WHERE stripe_event_id = ANY($1)`,
      [[noHandler.id, unknown.id]],
    );
    // An unmatched event is not processed yet: a replay after the account connects processes it.
    expect(Object.fromEntries(stamped.map((r) => [r.stripe_event_id, r.processed]))).toEqual({
      [noHandler.id as string]: true,
      [unknown.id as string]: false,
    });
  });

  it('account.updated: one Stripe read for the events of an account received before it; a later event reads again', async () => {
    const { tenantId, accountId } = await connectTenant(ds, gateway);
    const reads = async () =>
      (await emulatorRequests(t.emulatorUrl!, { path: `/v1/accounts/${accountId}`, method: 'GET' })).length;
    const accountUpdated = (created: number) =>
      eventBody({
        type: 'account.updated',
        account: accountId,
        created,
        object: { id: accountId, object: 'account' },
      });
    const processed = (e: Record<string, unknown>) =>
      inboxRowWhere(ds, e.id as string, (r) => r.status === 'processed', 'processed');
    const accountRow = async () =>
      (
        await ds.query(
          `SELECT status, charges_enabled, last_event_id, last_event_created FROM connect_accounts WHERE tenant_id = $1`,
          [tenantId],
        )
      )[0] as { status: string; charges_enabled: boolean; last_event_id: string; last_event_created: string };
    const accountEvents = async () =>
      Number(
        (
          await ds.query(
            `SELECT count(*)::int AS n FROM connect_events WHERE type = 'connect.account.updated' AND tenant_id = $1`,
            [tenantId],
          )
        )[0].n,
      );

    await emulatorControl(t.emulatorUrl!, `accounts/${accountId}/verification`, { action: 'complete' });
    const before = await reads();
    const now = Math.floor(Date.now() / 1000);
    const burst = [accountUpdated(now - 2), accountUpdated(now - 1), accountUpdated(now)];
    await storeBacklog(
      ds,
      jobs,
      burst.map((body) => ({ body })),
    );
    for (const e of burst) expect(await processed(e)).toMatchObject({ outcome: 'applied', attempts: 1 });
    expect(await reads()).toBe(before + 1);
    expect(await accountRow()).toMatchObject({
      status: 'active',
      charges_enabled: true,
      last_event_id: burst[2].id,
      last_event_created: String(now),
    });
    // The state changed once, so once announced, whatever the number of events that brought it.
    expect(await accountEvents()).toBe(1);
    for (const e of burst) expect(await countReceivedEvents(ds, e.id as string)).toBe(1);

    // Received after that read was asked for: read again, and the new state is applied.
    await emulatorControl(t.emulatorUrl!, `accounts/${accountId}/verification`, { action: 'reject' });
    const later = accountUpdated(now + 1);
    await storeBacklog(ds, jobs, [{ body: later }]);
    expect(await processed(later)).toMatchObject({ outcome: 'applied' });
    expect(await reads()).toBe(before + 2);
    expect(await accountRow()).toMatchObject({
      status: 'disabled',
      charges_enabled: false,
      last_event_id: later.id,
    });
    expect(await accountEvents()).toBe(2);

    // Older than what is applied: stale, settled without asking Stripe.
    const old = accountUpdated(now - 100);
    await storeBacklog(ds, jobs, [{ body: old }]);
    expect(await processed(old)).toMatchObject({ outcome: 'stale' });
    expect(await reads()).toBe(before + 2);
    expect((await accountRow()).last_event_id).toBe(later.id);
  });
});

import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid } from '@app/common';
import { SETTLED_WEBHOOK_STATUSES, StripeWebhookEventStatus } from '@app/database';
import type { StripeEvent } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobBatch, JobQueue, JobQueueDrainingError, QueuedJob } from '../queue/job-queue.service';
import { PreparedWebhook, WebhookHandlerRegistry } from './webhook-handler.registry';
import { InboxKey, InboxSnapshot, WebhookInboxRepository } from './webhook-inbox.repository';
import { WEBHOOK_PROCESS_QUEUE, WEBHOOKS_QUEUES } from './webhooks.queues';
import { WebhookProcessJob } from './webhook-inbox.service';
import { inSpan } from '../tracing/trace-context';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecrets } from './webhook-secrets.service';
import { WebhookTenantResolver } from './webhook-tenant-resolver.service';

/** States a job finds and leaves alone: this is what makes a second job for one event a no-op. */
const SETTLED = new Set<StripeWebhookEventStatus>(SETTLED_WEBHOOK_STATUSES);

const MAX_ERROR_LENGTH = 2000;

/** Jobs fetched at once; each still runs in a transaction of its own. */
const BATCH_SIZE = 50;

export interface ProcessResult {
  status: StripeWebhookEventStatus;
  outcome: string;
}

/** What processing an inbox row comes to, decided for the whole batch before any transaction. */
type Plan =
  /** Gone, or already settled: a duplicate job. */
  | { kind: 'none' }
  /** No handler runs: settled with the batch's others in one statement, atomic by itself. */
  | {
      kind: 'settle';
      row: InboxSnapshot;
      status: StripeWebhookEventStatus;
      outcome: string;
      tenantId: string | null;
    }
  /** Its handlers run in a transaction holding the row's lock. */
  | {
      kind: 'handle';
      row: InboxSnapshot & { payload: StripeEvent };
      tenantId: string;
      prepared?: PreparedWebhook;
    };

type SettlePlan = Extract<Plan, { kind: 'settle' }>;

/**
 * Processes inbox rows from the `stripe-webhook.process` queue, a batch of jobs at a time: one query reads the
 * batch's rows, one or two resolve their tenants, handlers prepare what they need outside any lock (a Stripe read).
 * Events no handler touches are then settled together by one statement (nothing else changes for them, and the
 * statement is atomic by itself); every other event commits everything it changes (the handler's state, its
 * ConnectEvents, `connect.webhook.received`, the inbox row) in a transaction of its own that holds the row's lock,
 * so one failing event rolls back nothing else. Duplicate jobs, replays and any number of replicas serialise on
 * the row's lock and see it settled.
 */
@Injectable()
export class WebhookProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly inbox: WebhookInboxRepository,
    private readonly registry: WebhookHandlerRegistry,
    private readonly resolver: WebhookTenantResolver,
    private readonly events: EventsService,
    private readonly secrets: WebhookSecrets,
    private readonly metrics: WebhookMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.define(WEBHOOKS_QUEUES.process);
    // Two loops, so one batch's tail overlaps the next batch's head; the events of a batch run up to the
    // replica-wide job limit at once, each holding a pool connection only for its own transaction.
    await this.jobs.workBatch<WebhookProcessJob>(
      WEBHOOK_PROCESS_QUEUE,
      { concurrency: 2, batchSize: BATCH_SIZE },
      (batch) => this.processBatch(batch),
    );
    await this.jobs.work<WebhookProcessJob>(
      `${WEBHOOK_PROCESS_QUEUE}.dead`,
      { concurrency: 1 },
      async (job) => {
        await this.markDead({ id: job.data.inboxId, eventId: job.data.eventId });
      },
    );
  }

  /** Processes one inbox row now; throws (after recording the error) so a caller may retry. Null: nothing to do. */
  async process(inboxId: string): Promise<ProcessResult | null> {
    if (!isUuid(inboxId)) return null;
    const [plan] = await this.plan([{ id: inboxId }], (work) => work());
    if (plan.kind !== 'settle') return this.settle(plan);
    const changed = await this.recordingFailure(keyOf(plan), this.settleWithoutHandlers([plan]));
    return changed ? { status: plan.status, outcome: plan.outcome } : null;
  }

  /**
   * One fetched batch: plan it, settle in one statement every event no handler touches, then run the others'
   * transactions, events of one account in order.
   */
  async processBatch(batch: JobBatch<WebhookProcessJob>): Promise<void> {
    // A job whose data names no inbox row (it cannot come from the intake) must not fail the batch's query.
    const keys = new Map<string, InboxKey>();
    for (const { data } of batch.jobs)
      if (isUuid(data.inboxId) && !keys.has(data.inboxId))
        keys.set(data.inboxId, { id: data.inboxId, eventId: data.eventId });
    const ids = [...keys.keys()];
    const carriers = new Map(batch.jobs.map((j) => [j.data.inboxId, j.data as object]));
    const plans = await this.plan(
      [...keys.values()],
      (work) => batch.step(work),
      (id) => carriers.get(id),
    );
    const planOf = new Map(ids.map((id, i) => [id, plans[i]]));
    const settles = plans.filter((p): p is SettlePlan => p.kind === 'settle');
    const chains = new Map<string, Array<{ job: QueuedJob<WebhookProcessJob>; plan: Plan }>>();
    const quick: Array<{ job: QueuedJob<WebhookProcessJob>; plan: Plan }> = [];
    for (const job of batch.jobs) {
      const plan = planOf.get(job.data.inboxId) ?? { kind: 'none' };
      if (plan.kind !== 'handle') {
        quick.push({ job, plan });
        continue;
      }
      // Events of one account one after another (so they do not wait on each other's row locks), others at once.
      const key = plan.row.stripe_account_id ?? plan.row.id;
      chains.set(key, [...(chains.get(key) ?? []), { job, plan }]);
    }
    const runs: Promise<void>[] = [];
    runs.push(
      (async () => {
        // The statement first, then each job's outcome from it (a job's slot never waits on the statement's).
        const failure = settles.length
          ? await batch
              .step(() => this.settleWithoutHandlers(settles, true))
              .then(
                () => null,
                (err: unknown) => err ?? new Error('settling failed'),
              )
          : null;
        if (failure instanceof JobQueueDrainingError) return;
        await Promise.all(
          quick.map(({ job, plan }) =>
            batch.run(job, async () => {
              if (plan.kind !== 'settle' || !failure) return;
              await this.recordFailure(keyOf(plan), failure);
              throw failure;
            }),
          ),
        );
      })(),
    );
    for (const chain of chains.values()) {
      chain.sort((a, b) => createdOf(a.plan) - createdOf(b.plan));
      runs.push(
        (async () => {
          for (const { job, plan } of chain) {
            await batch.run(job, async () => {
              await this.settle(plan, true);
            });
          }
        })(),
      );
    }
    await Promise.all(runs);
  }

  /**
   * Reads the rows (one query) and resolves the tenants (at most two) in one slot, then lets the handlers prepare
   * outside of it. Decides from what processing never changes (type, livemode, payload); the status is checked
   * again where the row is written.
   */
  private async plan(
    keys: InboxKey[],
    step: <R>(work: () => Promise<R>) => Promise<R>,
    carrierOf: (inboxId: string) => object | undefined = () => undefined,
  ): Promise<Plan[]> {
    // The payload (parsed in JS) only where it is used: by a handler, or to find a platform event's tenant.
    const handledTypes = this.registry.registeredTypes();
    const { rows, tenants } = await step(async () => {
      const rows = await this.inbox.readBatch(keys, handledTypes);
      const open = rows.filter(
        (r) => !SETTLED.has(r.status) && r.livemode === this.secrets.livemode && r.tenant_id === null,
      );
      const resolved = await this.resolver.resolveMany(
        this.dataSource.manager,
        open.map((r) => r.payload ?? { account: r.stripe_account_id }),
      );
      return { rows, tenants: new Map(open.map((r, i) => [r.id, resolved[i]])) };
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const plans = keys.map(({ id }): Plan => {
      const row = byId.get(id);
      if (!row || SETTLED.has(row.status)) return { kind: 'none' };
      if (row.livemode !== this.secrets.livemode) {
        const [status, outcome] = [StripeWebhookEventStatus.Ignored, 'livemode_mismatch'];
        return { kind: 'settle', row, status, outcome, tenantId: row.tenant_id };
      }
      if (!row.stripe_account_id && row.tenant_id === null && this.registry.ignoredOnPlatform(row.type)) {
        this.logger.log(
          { event: row.stripe_event_id, type: row.type },
          'Platform event ignored: it concerns no tenant',
        );
        const [status, outcome] = [StripeWebhookEventStatus.Ignored, 'platform_ignored'];
        return { kind: 'settle', row, status, outcome, tenantId: null };
      }
      const tenantId = row.tenant_id ?? tenants.get(row.id) ?? null;
      // Not retried: only a later connection or a replay can give it a tenant.
      if (!tenantId) {
        return {
          kind: 'settle',
          row,
          status: StripeWebhookEventStatus.Unmatched,
          outcome: 'unmatched',
          tenantId,
        };
      }
      const { payload } = row;
      if (!handledTypes.includes(row.type) || !payload) {
        return {
          kind: 'settle',
          row,
          status: StripeWebhookEventStatus.Ignored,
          outcome: 'no_handler',
          tenantId,
        };
      }
      return { kind: 'handle', row: { ...row, payload }, tenantId };
    });
    const handled = plans.filter((p): p is Extract<Plan, { kind: 'handle' }> => p.kind === 'handle');
    if (handled.length) {
      // In the trace of the batch's first handled event: a read shared by several events belongs to one trace.
      const prepared = await inSpan(
        'webhook prepare',
        { carrier: carrierOf(handled[0].row.id), attributes: { 'webhook.events': handled.length } },
        () =>
          this.registry.prepare(
            handled.map((p) => ({
              event: p.row.payload,
              tenantId: p.tenantId,
              receivedAt: p.row.received_at,
            })),
            { readAt: handled[0].row.read_at, step },
          ),
      );
      handled.forEach((p, i) => (p.prepared = prepared[i]));
    }
    return plans;
  }

  /**
   * Runs one planned event's transaction; throws (after recording the error) so the queue retries it. `ofJob`: run
   * for a queued job, whose completion is what makes the work count (see handle).
   */
  private async settle(plan: Plan, ofJob = false): Promise<ProcessResult | null> {
    if (plan.kind !== 'handle') return null;
    const settled = await this.recordingFailure(keyOf(plan), this.handle(plan, ofJob));
    if (!settled) return null;
    this.metrics.events.inc({ type: settled.type, outcome: settled.outcome });
    if (settled.lagSeconds !== null) this.metrics.lag.observe({ type: settled.type }, settled.lagSeconds);
    return { status: settled.status, outcome: settled.outcome };
  }

  private async recordingFailure<R>(key: InboxKey, work: Promise<R>): Promise<R> {
    try {
      return await work;
    } catch (err) {
      await this.recordFailure(key, err);
      throw err;
    }
  }

  /**
   * Settles events no handler touches in one statement: nothing but their rows changes, so one event cannot fail
   * on its own. Rows locked in id order (concurrent replicas cannot deadlock on them); a row a concurrent job
   * settled first is left as it is. `ofJobs`: without waiting for the WAL flush, as handle() explains.
   */
  private async settleWithoutHandlers(plans: SettlePlan[], ofJobs = false): Promise<number> {
    const rows = await this.inbox.settleMany(
      plans.map((p) => ({
        id: p.row.id,
        stripeEventId: p.row.stripe_event_id,
        status: p.status,
        outcome: p.outcome,
        tenantId: p.tenantId,
        stamp: p.status !== StripeWebhookEventStatus.Unmatched,
      })),
      ofJobs,
    );
    for (const r of rows) this.metrics.events.inc({ type: r.type, outcome: r.outcome });
    return rows.length;
  }

  /**
   * A job's transaction commits without waiting for its WAL flush (a flush costs more than the transaction's
   * statements): any later synchronous commit (the job's completion, a worker taking the dispatch job of the event it
   * emitted) flushes the WAL past it first, and a crash before the completion loses both, so the job runs again on
   * the row as it was. Nothing outside the database acts on it in between but the account cache's invalidation.
   */
  private async handle(
    plan: Extract<Plan, { kind: 'handle' }>,
    ofJob: boolean,
  ): Promise<(ProcessResult & { type: string; lagSeconds: number | null }) | null> {
    const { row } = plan;
    return this.dataSource.transaction(async (manager) => {
      const current = await this.inbox.lock(manager, row.id, row.stripe_event_id, ofJob);
      if (!current || SETTLED.has(current.status)) return null;
      const firstTime = current.processed_at === null;
      const tenantId = current.tenant_id ?? plan.tenantId;
      const finish = async (status: StripeWebhookEventStatus, outcome: string) => {
        const stamp = firstTime && status !== StripeWebhookEventStatus.Unmatched;
        const settlement = {
          id: row.id,
          stripeEventId: row.stripe_event_id,
          status,
          outcome,
          tenantId,
          stamp,
        };
        if (firstTime && status === StripeWebhookEventStatus.Processed) {
          // The first successful processing announces the event; its row and the inbox row in one statement.
          await this.events.emit(
            manager,
            {
              type: 'connect.webhook.received',
              tenant_id: tenantId,
              data: { stripe_event_id: row.stripe_event_id, type: row.type, account: row.stripe_account_id },
            },
            this.inbox.finishSql(settlement),
          );
        } else {
          await this.inbox.finish(manager, settlement);
        }
        const lagSeconds =
          firstTime && status === StripeWebhookEventStatus.Processed
            ? (Date.now() - current.received_at.getTime()) / 1000
            : null;
        return { status, outcome, type: row.type, lagSeconds };
      };

      const outcome = await this.registry.dispatch(
        { manager, event: row.payload, tenantId, inboxId: row.id },
        plan.prepared,
      );
      return finish(
        outcome === null ? StripeWebhookEventStatus.Ignored : StripeWebhookEventStatus.Processed,
        outcome ?? 'no_handler',
      );
    });
  }

  /** Outside the rolled-back transaction, so the operators see the attempt and why it failed. */
  private async recordFailure(key: InboxKey, err: unknown): Promise<void> {
    const message = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(
      0,
      MAX_ERROR_LENGTH,
    );
    this.logger.warn({ inboxId: key.id, err: message }, 'Webhook processing failed; the queue retries it');
    try {
      const type = await this.inbox.recordFailure(key, message);
      if (type) this.metrics.events.inc({ type, outcome: 'failed' });
    } catch {
      // The database itself may be what failed; the job's retry still happens.
    }
  }

  private async markDead(key: InboxKey): Promise<void> {
    const type = await this.inbox.markDead(key);
    if (type) {
      this.metrics.events.inc({ type, outcome: 'dead' });
      this.logger.error(
        { inboxId: key.id, type },
        'Webhook event dead-lettered after its last retry; replay it once fixed',
      );
    }
  }
}

/** A planned row's key, its event id read from the row. */
function keyOf(plan: Exclude<Plan, { kind: 'none' }>): InboxKey {
  return { id: plan.row.id, eventId: plan.row.stripe_event_id };
}

function createdOf(plan: Plan): number {
  return plan.kind === 'none' ? 0 : Number(plan.row.event_created);
}

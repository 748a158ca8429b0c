import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Webhook } from 'standardwebhooks';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/common';
import { eventsConfig } from '@app/config';
import { EventDeliveryStatus, EventSubscriptionStatus } from '@app/database';
import { reportError } from '../error-tracking/error-tracking';
import { JobQueue } from '../queue/job-queue.service';
import { AttemptRecord, DeliveryRow, EventDeliveriesRepository } from './event-deliveries.repository';
import { DELIVER_QUEUE, DeliverJob, EventQueues } from './events.queues';
import { EventSubscriptionsRepository } from './event-subscriptions.repository';
import { nextRetryDelaySeconds, responseExcerpt } from './delivery-policy';
import { connectEventDeliveryAttempts, DeliveryOutcome } from './events-metrics';
import { subscriptionSecretContext } from './event-subscriptions.service';

export interface AttemptResult {
  outcome: DeliveryOutcome;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  body: string | null;
}

const RESPONSE_EXCERPT_BYTES = 1024;

async function readPrefix(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  // The rest of a large answer is never read: a receiver cannot make us buffer it.
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * Delivers one ConnectEvent to one subscription, signed per Standard Webhooks, and records the attempt. Failed
 * attempts are rescheduled on our own retry schedule (a delayed job), not pg-boss's backoff, so the schedule is
 * exactly the configured one and survives restarts. The HTTP call runs outside any transaction, so no row lock
 * or pooled connection is held while a slow receiver answers.
 */
@Injectable()
export class EventDeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger('EventDelivery');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    private readonly queues: EventQueues,
    private readonly deliveries: EventDeliveriesRepository,
    private readonly subscriptions: EventSubscriptionsRepository,
    private readonly secrets: SecretBox,
    @Inject(eventsConfig.KEY) private readonly cfg: ConfigType<typeof eventsConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queues.ensure();
    // Deliveries wait on the network, not the CPU: several pollers per replica. Small batches, because a batch is
    // worked through in order and one slow receiver (up to the timeout) holds up the rest of its batch.
    await this.queue.work<DeliverJob>(DELIVER_QUEUE, { batchSize: 4, concurrency: 4 }, (job) =>
      this.deliver(job.data),
    );
  }

  async deliver(job: DeliverJob): Promise<void> {
    const row = await this.deliveries.read(job.deliveryId, job.tenantId);
    // A job of an older round (superseded by a redelivery) or of a finished delivery has nothing left to do.
    if (!row || row.round !== job.round || row.status !== EventDeliveryStatus.Pending) return;
    if (row.deleted_at || row.sub_status !== EventSubscriptionStatus.Active) {
      const reason = row.deleted_at ? 'subscription deleted' : 'subscription disabled';
      await this.deliveries.abandon(row.id, row.tenant_id, job.round, reason);
      return;
    }
    const result = await this.attempt(row);
    connectEventDeliveryAttempts.inc({ outcome: result.outcome });
    await this.record(row, job, result);
  }

  private async attempt(row: DeliveryRow): Promise<AttemptResult> {
    const secret = this.secrets.open(row.secret_enc, subscriptionSecretContext(row.subscription_id));
    const payload = JSON.stringify({
      id: row.event_id,
      type: row.type,
      tenant_id: row.tenant_id,
      data: row.data,
      created_at: new Date(row.created_at).toISOString(),
    });
    const now = new Date();
    // webhook-id is the event's id on every attempt and redelivery, so receivers can deduplicate.
    const signature = new Webhook(secret).sign(row.event_id, now, payload);
    const started = performance.now();
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'connect-service-events/1',
          'webhook-id': row.event_id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: payload,
        // A redirect is the receiver's misconfiguration; following it could send the event somewhere unvetted.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      const body = responseExcerpt(await readPrefix(res, RESPONSE_EXCERPT_BYTES), RESPONSE_EXCERPT_BYTES);
      const durationMs = Math.round(performance.now() - started);
      const ok = res.status >= 200 && res.status < 300;
      return {
        outcome: ok ? 'success' : 'http_error',
        statusCode: res.status,
        durationMs,
        error: ok ? null : `HTTP ${res.status}`,
        body,
      };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      return {
        outcome: timedOut ? 'timeout' : 'network_error',
        statusCode: null,
        durationMs,
        error: timedOut
          ? `timeout after ${this.cfg.timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message),
        body: null,
      };
    }
  }

  /** Attempt log, delivery state, next attempt and the subscription's failure streak: one transaction. */
  private async record(row: DeliveryRow, job: DeliverJob, r: AttemptResult): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const locked = await this.deliveries.lock(manager, row.id, row.tenant_id);
      if (!locked) return;
      const attempt: AttemptRecord = { ...r, attemptNo: locked.attempts + 1 };
      await this.deliveries.logAttempt(manager, row.id, row.tenant_id, attempt);
      // A redelivery started meanwhile owns the delivery's state now; this attempt is only logged.
      const current = locked.round === job.round && locked.status === EventDeliveryStatus.Pending;
      if (!current) {
        await this.deliveries.countAttempt(manager, row.id, row.tenant_id, attempt.attemptNo);
        return;
      }
      if (r.outcome === 'success') {
        await this.deliveries.succeeded(manager, row.id, row.tenant_id, attempt);
        await this.subscriptions.resetFailures(manager, row.subscription_id);
        return;
      }
      const delay = nextRetryDelaySeconds(this.cfg.retryScheduleSeconds, job.step);
      if (delay !== null) {
        await this.deliveries.retryIn(manager, row.id, row.tenant_id, attempt, delay);
        await this.queue.send<DeliverJob>(
          DELIVER_QUEUE,
          { deliveryId: row.id, tenantId: row.tenant_id, round: job.round, step: job.step + 1 },
          { manager, startAfterSeconds: delay },
        );
        return;
      }
      await this.deliveries.failed(manager, row.id, row.tenant_id, attempt);
      const disabled = await this.subscriptions.countFailure(
        manager,
        row.subscription_id,
        this.cfg.disableAfterFailures,
        r.error ?? 'unknown error',
      );
      if (disabled) {
        reportError(
          new Error(
            `Outbound subscription disabled after ${this.cfg.disableAfterFailures} failed deliveries`,
          ),
          { kind: 'subscription_disabled', tenant_id: row.tenant_id, subscription_id: row.subscription_id },
        );
        this.logger.warn(
          `subscription ${row.subscription_id} disabled after ${this.cfg.disableAfterFailures} failed deliveries`,
        );
      }
    });
    if (r.outcome !== 'success') {
      this.logger.warn(`delivery ${row.id} of event ${row.event_id} attempt failed: ${r.error ?? 'unknown'}`);
    }
  }
}

import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/common';
import { eventsConfig } from '@app/config';
import { EventDeliveryStatus, EventSubscriptionStatus } from '@app/database';
import { JobQueue } from '../queue/job-queue.service';
import { DELIVER_QUEUE, DeliverJob, EventQueues } from './event-queues';
import { nextRetryDelaySeconds, responseExcerpt } from './delivery-policy';
import { connectEventDeliveryAttempts, DeliveryOutcome } from './events-metrics';
import { subscriptionSecretContext } from './event-subscriptions.service';

interface DeliveryRow {
  id: string;
  status: EventDeliveryStatus;
  round: number;
  subscription_id: string;
  url: string;
  secret_enc: string;
  sub_status: EventSubscriptionStatus;
  deleted_at: Date | null;
  event_id: string;
  type: string;
  tenant_id: string;
  data: Record<string, unknown>;
  created_at: Date;
}

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
    const rows = (await this.dataSource.query(
      `SELECT d.id, d.status, d.round, d.subscription_id, s.url, s.secret_enc, s.status AS sub_status, s.deleted_at,
              e.id AS event_id, e.type, e.tenant_id, e.data, e.created_at
         FROM event_deliveries d
         JOIN event_subscriptions s ON s.id = d.subscription_id
         JOIN connect_events e ON e.id = d.event_id
        WHERE d.id = $1`,
      [job.deliveryId],
    )) as DeliveryRow[];
    const row = rows[0];
    // A job of an older round (superseded by a redelivery) or of a finished delivery has nothing left to do.
    if (!row || row.round !== job.round || row.status !== EventDeliveryStatus.Pending) return;
    if (row.deleted_at || row.sub_status !== EventSubscriptionStatus.Active) {
      await this.dataSource.query(
        `UPDATE event_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $2, updated_at = now()
          WHERE id = $1 AND round = $3 AND status = 'pending'`,
        [row.id, row.deleted_at ? 'subscription deleted' : 'subscription disabled', job.round],
      );
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
      const locked = (await manager.query(
        `SELECT attempts, round, status FROM event_deliveries WHERE id = $1 FOR UPDATE`,
        [row.id],
      )) as { attempts: number; round: number; status: EventDeliveryStatus }[];
      if (!locked.length) return;
      const attemptNo = locked[0].attempts + 1;
      await manager.query(
        `INSERT INTO event_delivery_attempts (delivery_id, attempt_no, status_code, duration_ms, error, response_body, tenant_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.id, attemptNo, r.statusCode, r.durationMs, r.error, r.body, row.tenant_id],
      );
      // A redelivery started meanwhile owns the delivery's state now; this attempt is only logged.
      const current = locked[0].round === job.round && locked[0].status === EventDeliveryStatus.Pending;
      if (!current) {
        await manager.query(`UPDATE event_deliveries SET attempts = $2, updated_at = now() WHERE id = $1`, [
          row.id,
          attemptNo,
        ]);
        return;
      }
      if (r.outcome === 'success') {
        await manager.query(
          `UPDATE event_deliveries SET status = 'succeeded', attempts = $2, last_status_code = $3, last_error = NULL,
                  next_attempt_at = NULL, delivered_at = now(), updated_at = now() WHERE id = $1`,
          [row.id, attemptNo, r.statusCode],
        );
        await manager.query(
          `UPDATE event_subscriptions SET consecutive_failures = 0, updated_at = now() WHERE id = $1 AND consecutive_failures > 0`,
          [row.subscription_id],
        );
        return;
      }
      const delay = nextRetryDelaySeconds(this.cfg.retryScheduleSeconds, job.step);
      if (delay !== null) {
        await manager.query(
          `UPDATE event_deliveries SET attempts = $2, last_status_code = $3, last_error = $4,
                  next_attempt_at = now() + make_interval(secs => $5), updated_at = now() WHERE id = $1`,
          [row.id, attemptNo, r.statusCode, r.error, delay],
        );
        await this.queue.send<DeliverJob>(
          DELIVER_QUEUE,
          { deliveryId: row.id, round: job.round, step: job.step + 1 },
          { manager, startAfterSeconds: delay },
        );
        return;
      }
      await manager.query(
        `UPDATE event_deliveries SET status = 'failed', attempts = $2, last_status_code = $3, last_error = $4,
                next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
        [row.id, attemptNo, r.statusCode, r.error],
      );
      const res = (await manager.query(
        `UPDATE event_subscriptions
            SET consecutive_failures = consecutive_failures + 1,
                status = CASE WHEN consecutive_failures + 1 >= $2 THEN 'disabled'::event_subscription_status ELSE status END,
                disabled_at = CASE WHEN consecutive_failures + 1 >= $2 AND status = 'active' THEN now() ELSE disabled_at END,
                disabled_reason = CASE WHEN consecutive_failures + 1 >= $2 AND status = 'active'
                  THEN 'disabled after ' || (consecutive_failures + 1) || ' consecutive failed deliveries (last: ' || $3 || ')'
                  ELSE disabled_reason END,
                updated_at = now()
          WHERE id = $1
          RETURNING (status = 'disabled' AND disabled_at = now()) AS just_disabled`,
        [row.subscription_id, this.cfg.disableAfterFailures, r.error ?? 'unknown error'],
      )) as [{ just_disabled: boolean }[], number];
      if (res[0][0]?.just_disabled) {
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

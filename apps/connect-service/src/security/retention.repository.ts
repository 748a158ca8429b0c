import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Sql, WAITING_WEBHOOK_STATUSES, affected, join, sql } from '@app/database';

/** The retention purge's statements: each touches at most `limit` rows before `cutoff` (one batch). */
@Injectable()
export class RetentionRepository {
  /** Settled webhook payloads become `{}`; the row and its stripe_event_id stay (a late duplicate still stops). */
  async scrubWebhookPayloads(m: EntityManager, cutoff: Date, limit: number): Promise<number> {
    const waiting: Sql = join(WAITING_WEBHOOK_STATUSES.map((s) => sql`${s}::stripe_webhook_event_status`));
    return affected(
      m,
      sql`UPDATE stripe_webhook_events SET payload = '{}'::jsonb WHERE id IN (
            SELECT id FROM stripe_webhook_events
             WHERE received_at < ${cutoff} AND payload <> '{}'::jsonb AND status NOT IN (${waiting})
             LIMIT ${limit})`,
    );
  }

  /** Delivery attempt bodies go; status, timing and error stay. */
  async scrubDeliveryBodies(m: EntityManager, cutoff: Date, limit: number): Promise<number> {
    return affected(
      m,
      sql`UPDATE event_delivery_attempts SET response_body = NULL WHERE id IN (
            SELECT id FROM event_delivery_attempts
             WHERE created_at < ${cutoff} AND response_body IS NOT NULL LIMIT ${limit})`,
    );
  }

  /** The only DELETE the audit_log trigger lets through, and only in this transaction (SET LOCAL). */
  async deleteAuditRows(m: EntityManager, cutoff: Date, limit: number): Promise<number> {
    await affected(m, sql`SET LOCAL connect.retention = 'on'`);
    return affected(
      m,
      sql`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < ${cutoff} LIMIT ${limit})`,
    );
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { decodeKeysetCursor, pageOf } from '@app/common';
import { Db, DisputeRecovery, empty, join, one, rows, sql, Sql } from '@app/database';

export interface DisputeRow {
  tenant_id: string;
  id: string;
  stripe_dispute_id: string;
  stripe_account_id: string | null;
  charge_id: string | null;
  payment_id: string | null;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  evidence_due_by: Date | null;
  is_charge_refundable: boolean;
  evidence_submitted: boolean;
  liable: 'platform' | 'tenant';
  funds_withdrawn: number;
  funds_reinstated: number;
  dispute_fee: number;
  recovery: DisputeRecovery;
  reminders_sent: number[];
  last_event_created: number | null;
  last_event_id: string | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The facts of a dispute as Stripe describes it, ready to store. */
export type DisputeState = Omit<
  DisputeRow,
  | 'tenant_id'
  | 'id'
  | 'recovery'
  | 'reminders_sent'
  | 'last_event_created'
  | 'last_event_id'
  | 'closed_at'
  | 'updated_at'
>;

export interface DisputeListFilter {
  tenantId: string | null;
  status?: string;
  dueBefore?: Date;
  limit: number;
  cursor?: string;
}

const NUMERIC = [
  'amount',
  'funds_withdrawn',
  'funds_reinstated',
  'dispute_fee',
  'last_event_created',
] as const;

function toDisputeRow(r: Record<string, unknown>): DisputeRow {
  const out = { ...r } as Record<string, unknown>;
  for (const k of NUMERIC) out[k] = r[k] === null || r[k] === undefined ? null : Number(r[k]);
  return out as unknown as DisputeRow;
}

/** The only SQL of the `disputes` table. */
@Injectable()
export class DisputesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Serialises the writers of one dispute until the transaction ends (the row may not exist yet to lock). */
  async lock(db: Db, tenantId: string, stripeDisputeId: string): Promise<void> {
    await rows(db, sql`SELECT pg_advisory_xact_lock(hashtext(${`dispute:${tenantId}:${stripeDisputeId}`}))`);
  }

  async byStripeId(db: Db, tenantId: string, stripeDisputeId: string): Promise<DisputeRow | undefined> {
    const r = await one<Record<string, unknown>>(
      db,
      sql`SELECT * FROM disputes WHERE tenant_id = ${tenantId} AND stripe_dispute_id = ${stripeDisputeId}`,
    );
    return r ? toDisputeRow(r) : undefined;
  }

  /** Our ids of the named Stripe disputes of a tenant, by Stripe id. */
  async idsByStripeIds(db: Db, tenantId: string, stripeIds: string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(stripeIds)].filter((s) => s.startsWith('du_') || s.startsWith('dp_'));
    if (!wanted.length) return new Map();
    const found = await rows<{ id: string; stripe_dispute_id: string }>(
      db,
      sql`SELECT id, stripe_dispute_id FROM disputes
          WHERE tenant_id = ${tenantId} AND stripe_dispute_id IN (${join(wanted)})`,
    );
    return new Map(found.map((r) => [r.stripe_dispute_id, r.id]));
  }

  /** Our dispute per Stripe object its recovery moved money with: the transfer reversal, the return transfer. */
  async idsByRecoveryMovements(db: Db, tenantId: string, stripeIds: string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(stripeIds)].filter((s) => s.startsWith('trr_') || s.startsWith('tr_'));
    if (!wanted.length) return new Map();
    const found = await rows<{ id: string; stripe_id: string }>(
      db,
      sql`SELECT d.id, m->>'stripe_id' AS stripe_id
            FROM disputes d CROSS JOIN LATERAL jsonb_array_elements(d.recovery->'movements') m
           WHERE d.tenant_id = ${tenantId} AND m->>'stripe_id' IN (${join(wanted)})`,
    );
    return new Map(found.map((r) => [r.stripe_id, r.id]));
  }

  async get(db: Db, id: string): Promise<DisputeRow | undefined> {
    const r = await one<Record<string, unknown>>(db, sql`SELECT * FROM disputes WHERE id = ${id}`);
    return r ? toDisputeRow(r) : undefined;
  }

  async insert(
    db: Db,
    tenantId: string,
    s: DisputeState,
    recovery: DisputeRecovery,
    event: { created: number; id: string } | null,
  ): Promise<DisputeRow> {
    const r = await one<Record<string, unknown>>(
      db,
      sql`INSERT INTO disputes (tenant_id, stripe_dispute_id, stripe_account_id, charge_id, payment_id, amount,
            currency, reason, status, evidence_due_by, is_charge_refundable, evidence_submitted, liable,
            funds_withdrawn, funds_reinstated, dispute_fee, recovery, last_event_created, last_event_id, closed_at,
            created_at)
          VALUES (${tenantId}, ${s.stripe_dispute_id}, ${s.stripe_account_id}, ${s.charge_id}, ${s.payment_id},
            ${s.amount}, ${s.currency}, ${s.reason}, ${s.status}, ${s.evidence_due_by}, ${s.is_charge_refundable},
            ${s.evidence_submitted}, ${s.liable}, ${s.funds_withdrawn}, ${s.funds_reinstated}, ${s.dispute_fee},
            ${JSON.stringify(recovery)}::jsonb, ${event?.created ?? null}::bigint, ${event?.id ?? null}::varchar,
            ${['won', 'lost', 'warning_closed'].includes(s.status) ? new Date() : null}, ${s.created_at})
          RETURNING *`,
    );
    return toDisputeRow(r as Record<string, unknown>);
  }

  /** Writes the merged state (the caller decided it moves forward) and the newest event applied. */
  async update(
    db: Db,
    row: DisputeRow,
    s: Pick<
      DisputeState,
      | 'status'
      | 'evidence_due_by'
      | 'is_charge_refundable'
      | 'evidence_submitted'
      | 'funds_withdrawn'
      | 'funds_reinstated'
      | 'dispute_fee'
      | 'reason'
      | 'amount'
    >,
    event: { created: number; id: string } | null,
  ): Promise<DisputeRow> {
    const closing = ['won', 'lost', 'warning_closed'].includes(s.status);
    const mark = event
      ? sql`, last_event_created = GREATEST(last_event_created, ${event.created}::bigint),
            last_event_id = CASE WHEN ${event.created}::bigint >= COALESCE(last_event_created, 0)
              THEN ${event.id} ELSE last_event_id END`
      : empty;
    const r = await one<Record<string, unknown>>(
      db,
      sql`UPDATE disputes SET status = ${s.status}, evidence_due_by = ${s.evidence_due_by},
            is_charge_refundable = ${s.is_charge_refundable}, evidence_submitted = ${s.evidence_submitted},
            funds_withdrawn = ${s.funds_withdrawn}, funds_reinstated = ${s.funds_reinstated},
            dispute_fee = ${s.dispute_fee}, reason = ${s.reason}, amount = ${s.amount},
            closed_at = ${closing ? sql`COALESCE(closed_at, now())` : sql`NULL`}, updated_at = now() ${mark}
          WHERE tenant_id = ${row.tenant_id} AND id = ${row.id} RETURNING *`,
    );
    return toDisputeRow(r as Record<string, unknown>);
  }

  async setRecovery(db: Db, row: DisputeRow, recovery: DisputeRecovery): Promise<DisputeRow> {
    const r = await one<Record<string, unknown>>(
      db,
      sql`UPDATE disputes SET recovery = ${JSON.stringify(recovery)}::jsonb, updated_at = now()
          WHERE tenant_id = ${row.tenant_id} AND id = ${row.id} RETURNING *`,
    );
    return toDisputeRow(r as Record<string, unknown>);
  }

  async list(
    f: DisputeListFilter,
  ): Promise<{ rows: DisputeRow[]; has_more: boolean; next_cursor: string | null }> {
    const where: Sql[] = [sql`TRUE`];
    if (f.tenantId !== null) where.push(sql`tenant_id = ${f.tenantId}`);
    if (f.status) where.push(sql`status = ${f.status}`);
    if (f.dueBefore) where.push(sql`evidence_due_by < ${f.dueBefore}`);
    if (f.cursor) {
      const c = decodeKeysetCursor(f.cursor);
      where.push(sql`(created_at, id) < (CAST(${c.at} AS timestamptz), CAST(${c.id} AS uuid))`);
    }
    const found = await rows<Record<string, unknown>>(
      this.dataSource,
      sql`SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS keyset_at
          FROM disputes WHERE ${join(where, ' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${f.limit + 1}`,
    );
    const page = pageOf(
      found.map((r) => ({ ...toDisputeRow(r), keyset_at: r.keyset_at as string })),
      f.limit,
      (r) => r.keyset_at,
    );
    return { ...page, rows: page.rows.map(({ keyset_at: _, ...r }) => r) };
  }

  /**
   * Disputed / succeeded payments by count over the last `days`, per tenant and currency, for tenants with a
   * succeeded payment in the window. Reads payment_routes too: the rate is the disputes' figure.
   */
  async disputeRates(
    db: Db,
    days: number,
  ): Promise<Array<{ tenant_id: string; currency: string; rate: number }>> {
    const since = new Date(Date.now() - days * 86_400_000);
    const found = await rows<{ tenant_id: string; currency: string; disputed: number; succeeded: number }>(
      db,
      sql`SELECT p.tenant_id, p.currency, p.succeeded, COALESCE(d.disputed, 0)::int AS disputed
          FROM (SELECT tenant_id, currency, count(*)::int AS succeeded FROM payment_routes
                WHERE type = 'payment' AND status = 'completed' AND created_at >= ${since}
                GROUP BY tenant_id, currency) p
          LEFT JOIN (SELECT tenant_id, currency, count(*)::int AS disputed FROM disputes
                WHERE status NOT LIKE 'warning_%' AND created_at >= ${since}
                GROUP BY tenant_id, currency) d
            ON d.tenant_id = p.tenant_id AND d.currency = p.currency`,
    );
    return found.map((r) => ({
      tenant_id: r.tenant_id,
      currency: r.currency,
      rate: r.disputed / r.succeeded,
    }));
  }

  /**
   * Claims the open disputes due within `hours` that have not had this reminder yet, across tenants: one UPDATE, so
   * however many replicas sweep at once, each reminder is claimed once (PostgreSQL re-checks the WHERE under the lock).
   */
  async claimReminders(db: Db, hours: number): Promise<DisputeRow[]> {
    const claimed = await rows<Record<string, unknown>>(
      db,
      sql`UPDATE disputes SET reminders_sent = reminders_sent || to_jsonb(${hours}::int), updated_at = now()
          WHERE status IN ('needs_response', 'warning_needs_response') AND NOT evidence_submitted
            AND evidence_due_by > now() AND evidence_due_by <= now() + make_interval(hours => ${hours}::int)
            AND NOT reminders_sent @> to_jsonb(${hours}::int)
          RETURNING *`,
    );
    return claimed.map(toDisputeRow);
  }
}

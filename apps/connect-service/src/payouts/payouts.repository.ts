import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { decodeKeysetCursor, pageOf } from '@app/common';
import { Db, empty, ident, join, keyword, one, rows, sql, Sql } from '@app/database';

/** Columns a later answer without them (null) never clears. */
const KEPT = ['arrival_date', 'failure_code', 'failure_message', 'description'] as const;

/** A payouts row as the database answers it (bigints as text until `toPayoutRow`). */
export interface PayoutRow {
  tenant_id: string;
  id: string;
  stripe_account_id: string;
  stripe_payout_id: string;
  amount: number;
  currency: string;
  status: string;
  method: string;
  automatic: boolean;
  arrival_date: Date | null;
  failure_code: string | null;
  failure_message: string | null;
  reconciliation_status: string;
  description: string | null;
  last_event_created: number | null;
  last_event_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The state of a payout as Stripe describes it, ready to store. */
export type PayoutState = Omit<
  PayoutRow,
  'tenant_id' | 'id' | 'last_event_created' | 'last_event_id' | 'updated_at'
>;

export interface PayoutListFilter {
  status?: string;
  createdGte?: Date;
  createdLt?: Date;
  arrivalGte?: Date;
  arrivalLt?: Date;
  limit: number;
  cursor?: string;
}

function toPayoutRow(r: Record<string, unknown>): PayoutRow {
  return {
    ...(r as unknown as PayoutRow),
    amount: Number(r.amount),
    last_event_created: r.last_event_created === null ? null : Number(r.last_event_created),
  };
}

/** The only SQL of the `payouts` table. */
@Injectable()
export class PayoutsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts or refreshes a payout from Stripe, never backwards: Stripe sends events in no guaranteed order and
   * several in one second, so an event older than the last applied is refused, and within what is applied the
   * status only moves forward (pending → in_transit → paid → failed|canceled) and a completed reconciliation stays.
   * Answers the row and whether this call inserted it; undefined when the event was older than the row.
   */
  async upsert(
    db: Db,
    tenantId: string,
    s: PayoutState,
    event?: { created: number; id: string },
  ): Promise<{ row: PayoutRow; inserted: boolean } | undefined> {
    const eventCreated = event?.created ?? null;
    const eventId = event?.id ?? null;
    const rank = (col: Sql) =>
      sql`(CASE ${col} WHEN 'pending' THEN 0 WHEN 'in_transit' THEN 1 WHEN 'paid' THEN 2 ELSE 3 END)`;
    const status = sql`CASE WHEN ${rank(sql`EXCLUDED.status`)} >= ${rank(sql`payouts.status`)}
      THEN EXCLUDED.status ELSE payouts.status END`;
    const reconciliation = sql`CASE WHEN payouts.reconciliation_status = 'completed' THEN 'completed'
      ELSE EXCLUDED.reconciliation_status END`;
    const kept = (col: string) => sql`COALESCE(EXCLUDED.${ident(col, KEPT)}, payouts.${ident(col, KEPT)})`;
    const row = await one<Record<string, unknown>>(
      db,
      sql`INSERT INTO payouts (tenant_id, stripe_account_id, stripe_payout_id, amount, currency, status, method,
            automatic, arrival_date, failure_code, failure_message, reconciliation_status, description,
            last_event_created, last_event_id, created_at)
          VALUES (${tenantId}, ${s.stripe_account_id}, ${s.stripe_payout_id}, ${s.amount}, ${s.currency}, ${s.status},
            ${s.method}, ${s.automatic}, ${s.arrival_date}, ${s.failure_code}, ${s.failure_message},
            ${s.reconciliation_status}, ${s.description}, ${eventCreated}::bigint, ${eventId}::varchar, ${s.created_at})
          ON CONFLICT (tenant_id, stripe_payout_id) DO UPDATE SET
            status = ${status},
            arrival_date = ${kept('arrival_date')},
            failure_code = ${kept('failure_code')},
            failure_message = ${kept('failure_message')},
            reconciliation_status = ${reconciliation},
            description = ${kept('description')},
            last_event_created = GREATEST(EXCLUDED.last_event_created, payouts.last_event_created),
            last_event_id = CASE WHEN EXCLUDED.last_event_created IS NOT NULL
                AND EXCLUDED.last_event_created >= COALESCE(payouts.last_event_created, 0)
              THEN EXCLUDED.last_event_id ELSE payouts.last_event_id END,
            -- When the payout changed, not when a webhook repeated it (so a repeated answer equals the first).
            updated_at = CASE WHEN ROW(${status}, ${kept('arrival_date')}, ${kept('failure_code')},
                ${kept('failure_message')}, ${reconciliation}, ${kept('description')})
              IS DISTINCT FROM ROW(payouts.status, payouts.arrival_date, payouts.failure_code, payouts.failure_message,
                payouts.reconciliation_status, payouts.description)
              THEN now() ELSE payouts.updated_at END
          WHERE EXCLUDED.last_event_created IS NULL OR payouts.last_event_created IS NULL
            OR payouts.last_event_created <= EXCLUDED.last_event_created
          RETURNING *, (xmax = 0) AS inserted`,
    );
    if (!row) return undefined;
    const { inserted, ...rest } = row;
    return { row: toPayoutRow(rest), inserted: inserted === true };
  }

  /** Serialises the writers of one payout until the transaction ends (the row may not exist yet to lock). */
  async lock(db: Db, tenantId: string, stripePayoutId: string): Promise<void> {
    await rows(db, sql`SELECT pg_advisory_xact_lock(hashtext(${`payout:${tenantId}:${stripePayoutId}`}))`);
  }

  async get(db: Db, id: string, tenantId: string | null): Promise<PayoutRow | undefined> {
    const scope = tenantId === null ? empty : sql`AND tenant_id = ${tenantId}`;
    const r = await one<Record<string, unknown>>(db, sql`SELECT * FROM payouts WHERE id = ${id} ${scope}`);
    return r ? toPayoutRow(r) : undefined;
  }

  async byStripeIds(db: Db, tenantId: string, stripeIds: string[]): Promise<PayoutRow[]> {
    if (!stripeIds.length) return [];
    const found = await rows<Record<string, unknown>>(
      db,
      sql`SELECT * FROM payouts WHERE tenant_id = ${tenantId} AND stripe_payout_id IN (${join(stripeIds)})`,
    );
    return found.map(toPayoutRow);
  }

  async list(
    tenantId: string,
    f: PayoutListFilter,
  ): Promise<{ rows: PayoutRow[]; has_more: boolean; next_cursor: string | null }> {
    const where: Sql[] = [sql`tenant_id = ${tenantId}`];
    if (f.status) where.push(sql`status = ${f.status}`);
    if (f.createdGte) where.push(sql`created_at >= ${f.createdGte}`);
    if (f.createdLt) where.push(sql`created_at < ${f.createdLt}`);
    if (f.arrivalGte) where.push(sql`arrival_date >= ${f.arrivalGte}`);
    if (f.arrivalLt) where.push(sql`arrival_date < ${f.arrivalLt}`);
    if (f.cursor) {
      const c = decodeKeysetCursor(f.cursor);
      where.push(sql`(created_at, id) < (CAST(${c.at} AS timestamptz), CAST(${c.id} AS uuid))`);
    }
    const found = await rows<Record<string, unknown>>(
      this.dataSource,
      sql`SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS keyset_at FROM payouts WHERE ${join(where, ' AND ')}
          ORDER BY created_at DESC, id DESC LIMIT ${f.limit + 1}`,
    );
    const page = pageOf(
      found.map((r) => ({ ...toPayoutRow(r), keyset_at: r.keyset_at as string })),
      f.limit,
      (r) => r.keyset_at,
    );
    return { ...page, rows: page.rows.map(({ keyset_at: _, ...r }) => r) };
  }

  /**
   * Payout counters for the analytics query, per bucket of the payout's creation and per group: every payout,
   * the amount of those paid, how many failed. Dimensions payouts do not have answer '' (none).
   */
  async analytics(q: PayoutAnalyticsQuery): Promise<Array<Record<string, unknown>>> {
    const bucket = q.granularity === 'total' ? null : keyword(BUCKETS[q.granularity], Object.values(BUCKETS));
    const dim = (d: string): Sql =>
      PAYOUT_DIMENSIONS.includes(d) ? ident(d, PAYOUT_DIMENSIONS) : sql`''::text`;
    const where: Sql[] = [sql`created_at >= ${q.from}`, sql`created_at < ${q.to}`];
    for (const [d, values] of Object.entries(q.filters))
      where.push(sql`${ident(d, PAYOUT_DIMENSIONS)} = ANY(${values}::text[])`);
    const keys = [...(bucket ? [bucket] : []), ...q.groupBy.map(dim)];
    const select = join([
      bucket ? sql`${bucket} AS b` : sql`NULL::timestamptz AS b`,
      ...q.groupBy.map((d) => sql`${dim(d)} AS ${ident(d, q.groupBy)}`),
      sql`count(*)::text AS payouts_count`,
      sql`(COALESCE(sum(amount) FILTER (WHERE status = 'paid'), 0))::text AS payouts_volume`,
      sql`(count(*) FILTER (WHERE status = 'failed'))::text AS payouts_failed`,
    ]);
    return rows<Record<string, unknown>>(
      this.dataSource,
      sql`SELECT ${select} FROM payouts WHERE ${join(where, ' AND ')}
          ${keys.length ? sql`GROUP BY ${join(keys)}` : empty}`,
    );
  }
}

/** An analytics bucket of a payout's creation, in UTC. */
const BUCKETS = {
  '1h': `date_trunc('hour', created_at, 'UTC')`,
  '1d': `date_trunc('day', created_at, 'UTC')`,
} as const;

/** The analytics dimensions a payout has. */
const PAYOUT_DIMENSIONS: readonly string[] = ['tenant_id', 'stripe_account_id', 'currency'];

export interface PayoutAnalyticsQuery {
  from: Date;
  to: Date;
  granularity: '1h' | '1d' | 'total';
  groupBy: string[];
  /** Only dimensions a payout has (the caller answers nothing when another is filtered on). */
  filters: Record<string, string[]>;
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  Db,
  EntitySql,
  empty,
  join,
  preparedRowsOn,
  rows,
  sql,
} from '@app/database';

/** Accounts with no deadline sort last; the cursor carries this instead of null. */
const NO_DEADLINE = '9999-12-31T00:00:00.000000Z';

export interface DeadlineListFilter {
  status?: ConnectAccountStatus;
  due?: 'currently_due' | 'past_due';
  deadlineBefore?: Date;
  limit: number;
  after?: { at: string; id: string };
}

export interface DeadlineRow {
  id: string;
  keyset_at: string;
}

export interface ReminderCandidate {
  tenant_id: string;
}

/** What a webhook needs of an account to tell whether an event is past (its last applied event). */
export interface AccountEventState {
  tenant_id: string;
  stripe_account_id: string;
  disconnected_at: Date | null;
  last_event_created: string | null;
  last_event_id: string | null;
}

/**
 * connect_accounts queries other than TypeORM's: by Stripe account id in bulk, the gauges', those of Accounts v2
 * (tenant create lock, the deadline list, reminder candidates), and the locked read and update that apply a Stripe
 * account (every account webhook runs them: plain SQL, prepared, mapped by the entity).
 */
@Injectable()
export class ConnectAccountsRepository {
  readonly noDeadline = NO_DEADLINE;
  private readonly entity: EntitySql<ConnectAccountEntity>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.entity = new EntitySql(dataSource, ConnectAccountEntity);
  }

  /** The tenant's row of this Stripe account, locked for update in the caller's transaction (as find() maps it). */
  async lockForUpdate(
    manager: EntityManager,
    tenantId: string,
    stripeAccountId: string,
  ): Promise<ConnectAccountEntity | null> {
    const [raw] = await preparedRowsOn<Record<string, unknown>>(
      manager,
      'account-lock',
      sql`SELECT ${this.entity.selectList('a', '')} FROM ${this.entity.table} a
           WHERE a.tenant_id = ${tenantId} AND a.stripe_account_id = ${stripeAccountId} LIMIT 1 FOR UPDATE`,
    );
    return raw ? this.entity.readRow(raw, '') : null;
  }

  /** One UPDATE of a row the caller locked, as update() writes it; answers the new version and updated_at. */
  async update(
    manager: EntityManager,
    row: Pick<ConnectAccountEntity, 'id' | 'tenant_id'>,
    changes: Partial<ConnectAccountEntity>,
  ): Promise<{ version: number; updated_at: Date }> {
    const [written] = await preparedRowsOn<{ version: number; updated_at: Date }>(
      manager,
      'account-update',
      sql`UPDATE ${this.entity.table} SET ${this.entity.updateSet(changes)}
           WHERE id = ${row.id} AND tenant_id = ${row.tenant_id} RETURNING version, updated_at`,
    );
    return written;
  }

  async tenantsOf(
    db: Db,
    stripeAccountIds: string[],
  ): Promise<Array<{ tenant_id: string; stripe_account_id: string }>> {
    return rows(
      db,
      sql`SELECT tenant_id, stripe_account_id FROM connect_accounts WHERE stripe_account_id = ANY(${stripeAccountIds})`,
    );
  }

  async eventStates(stripeAccountIds: string[]): Promise<AccountEventState[]> {
    return rows(
      this.dataSource,
      sql`SELECT tenant_id, stripe_account_id, disconnected_at, last_event_created, last_event_id
            FROM connect_accounts WHERE stripe_account_id = ANY(${stripeAccountIds})`,
    );
  }

  /** The accounts still connected, oldest first. */
  async connectedStripeAccountIds(): Promise<string[]> {
    const found = await rows<{ stripe_account_id: string }>(
      this.dataSource,
      sql`SELECT stripe_account_id FROM connect_accounts WHERE disconnected_at IS NULL ORDER BY created_at`,
    );
    return found.map((r) => r.stripe_account_id);
  }

  async countByStatus(): Promise<Map<string, number>> {
    const found = await rows<{ status: string; n: number }>(
      this.dataSource,
      sql`SELECT status, count(*)::int AS n FROM connect_accounts GROUP BY status`,
    );
    return new Map(found.map((r) => [r.status, r.n]));
  }

  /** Serialises creates of one tenant's account until the transaction ends (one Stripe account per tenant). */
  async lockTenant(db: Db, tenantId: string): Promise<void> {
    await rows(db, sql`SELECT pg_advisory_xact_lock(hashtextextended(${`connect-account:${tenantId}`}, 0))`);
  }

  /** Ids of one page, nearest deadline first (no deadline last), then id; `limit + 1` rows. */
  async pageByDeadline(db: Db, f: DeadlineListFilter): Promise<DeadlineRow[]> {
    const key = sql`COALESCE(next_deadline, ${NO_DEADLINE}::timestamptz)`;
    const where = [sql`TRUE`];
    if (f.status) where.push(sql`status = ${f.status}`);
    if (f.due) where.push(sql`requirement_entries @> ${JSON.stringify([{ due: f.due }])}::jsonb`);
    if (f.deadlineBefore) where.push(sql`next_deadline < ${f.deadlineBefore}`);
    const after = f.after ? sql`AND (${key}, id) > (${f.after.at}::timestamptz, ${f.after.id}::uuid)` : empty;
    return rows<DeadlineRow>(
      db,
      sql`SELECT id, to_char(${key} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS keyset_at
            FROM connect_accounts WHERE ${join(where, ' AND ')} ${after}
           ORDER BY ${key}, id LIMIT ${f.limit + 1}`,
    );
  }

  /** Connected accounts whose nearest deadline is within `horizonSeconds` (or past, by at most a day). */
  async reminderCandidates(db: Db, horizonSeconds: number): Promise<ReminderCandidate[]> {
    return rows<ReminderCandidate>(
      db,
      sql`SELECT tenant_id FROM connect_accounts
           WHERE next_deadline IS NOT NULL AND disconnected_at IS NULL
             AND next_deadline > now() - interval '1 day'
             AND next_deadline <= now() + ${horizonSeconds} * interval '1 second'
           ORDER BY next_deadline LIMIT 1000`,
    );
  }
}

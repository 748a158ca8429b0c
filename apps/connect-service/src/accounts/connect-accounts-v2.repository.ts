import { Injectable } from '@nestjs/common';
import { ConnectAccountStatus, Db, empty, join, rows, sql } from '@app/database';

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

/** The connect_accounts queries of Accounts v2: tenant create lock, the deadline list, reminder candidates. */
@Injectable()
export class ConnectAccountsV2Repository {
  readonly noDeadline = NO_DEADLINE;

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

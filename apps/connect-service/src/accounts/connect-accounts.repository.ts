import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Db, rows, sql } from '@app/database';

/** What a webhook needs of an account to tell whether an event is past (its last applied event). */
export interface AccountEventState {
  tenant_id: string;
  stripe_account_id: string;
  disconnected_at: Date | null;
  last_event_created: string | null;
  last_event_id: string | null;
}

/** connect_accounts reads other than by TypeORM: by Stripe account id in bulk, and the gauges'. */
@Injectable()
export class ConnectAccountsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
}

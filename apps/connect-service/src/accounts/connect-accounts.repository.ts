import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ConnectAccountEntity, Db, EntitySql, preparedRowsOn, rows, sql } from '@app/database';

/** What a webhook needs of an account to tell whether an event is past (its last applied event). */
export interface AccountEventState {
  tenant_id: string;
  stripe_account_id: string;
  disconnected_at: Date | null;
  last_event_created: string | null;
  last_event_id: string | null;
}

/**
 * connect_accounts reads other than by TypeORM: by Stripe account id in bulk, the gauges', and the locked read and
 * update that apply a Stripe account (every account webhook runs them: plain SQL, prepared, mapped by the entity).
 */
@Injectable()
export class ConnectAccountsRepository {
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
}

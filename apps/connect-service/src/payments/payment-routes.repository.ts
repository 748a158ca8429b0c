import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  ConnectAccountEntity,
  Db,
  EntitySql,
  PaymentAttempt,
  PaymentRouteEntity,
  Sql,
  VOID_ROUTE_STATUSES,
  affected,
  empty,
  join,
  one,
  preparedRows,
  rows,
  sql,
} from '@app/database';
import { ACTIVE_RULE_SET_ID } from '../routing/routing-rule-sets.repository';

/** What a payment reads of the tenant's account: refusal reasons, fee, rules' facts, capabilities. */
const PAYMENT_ACCOUNT_COLUMNS: (keyof ConnectAccountEntity)[] = [
  'id',
  'tenant_id',
  'stripe_account_id',
  'status',
  'charges_enabled',
  'disconnected_at',
  'fee_schedule',
  'country',
  'capabilities',
  'metadata',
  'api_version',
  'configurations',
];

/** A route as its INSERT stored it, with the row's xmin (any later UPDATE changes it) and the claim's record id. */
export interface InsertedRoute {
  route: PaymentRouteEntity;
  rowVersion: string;
  claimId: string | undefined;
}

/** The PaymentIntent a route's first record writes. */
export interface FirstRecord {
  id: string;
  tenant_id: string;
  rowVersion: string;
  stripe_payment_intent_id: string | null;
  status: string;
  stripe_status: string | null;
  stripe_object_id: string | null;
}

/**
 * payment_routes written in plain SQL where TypeORM costs more than the statement (the payment hot path runs them
 * prepared), and the reads other modules need of it. Entity rows are mapped by the entity's own metadata.
 */
@Injectable()
export class PaymentRoutesRepository {
  private readonly accounts: EntitySql<ConnectAccountEntity>;
  private readonly routes: EntitySql<PaymentRouteEntity>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.accounts = new EntitySql(dataSource, ConnectAccountEntity);
    this.routes = new EntitySql(dataSource, PaymentRouteEntity);
  }

  /** The hot path's statements run prepared (parsed and planned once per connection). */
  private prepared<R extends Record<string, unknown>>(q: Sql): Promise<R[]> {
    return preparedRows<R>(this.dataSource, 'payment', q);
  }

  /**
   * The tenant's account (PAYMENT_ACCOUNT_COLUMNS, as find() with `select` gives them; null without one) and the
   * active rule set's id (null without one): one statement. A tenant without an account still gets its row: the
   * active rule set decides before the account is refused.
   */
  async readForPayment(
    tenantId: string,
  ): Promise<{ account: ConnectAccountEntity | null; ruleSetId: string | null }> {
    const [raw] = await this.prepared<Record<string, unknown>>(
      sql`SELECT ${this.accounts.selectList('a', 'a_', PAYMENT_ACCOUNT_COLUMNS)}, ${ACTIVE_RULE_SET_ID} AS rule_set_id
            FROM (VALUES (1)) one LEFT JOIN ${this.accounts.table} a ON a.tenant_id = ${tenantId}`,
    );
    return {
      account: this.accounts.readRow(raw, 'a_'),
      ruleSetId: (raw.rule_set_id as string | null) ?? null,
    };
  }

  /**
   * Inserts the route as insert() would, returning the row as stored. With `claim` (a CTE body returning the claimed
   * record's id), in the statement that claims the key and only if it does: a key another request holds inserts
   * nothing (claimId undefined).
   */
  async insert(draft: PaymentRouteEntity, claim: Sql | null): Promise<InsertedRoute> {
    const { columns, values } = this.routes.insertValues(draft);
    const into = sql`INSERT INTO ${this.routes.table} AS r (${columns})`;
    const returning = sql`RETURNING ${this.routes.selectList('r', 'r_')}, r.xmin::text AS row_version`;
    const found = await this.prepared<Record<string, unknown>>(
      claim
        ? sql`WITH claim AS (${claim}),
            route AS (${into} SELECT ${values} FROM claim ${returning})
           SELECT claim.id AS claim_id, route.* FROM claim, route`
        : sql`${into} VALUES (${values}) ${returning}`,
    );
    const row = found[0];
    return {
      route: this.routes.readRow(row ?? {}, 'r_')!,
      rowVersion: row?.row_version as string,
      claimId: row?.claim_id as string | undefined,
    };
  }

  /**
   * The first record of the PaymentIntent on a route no one changed since its INSERT (its xmin is still
   * `rowVersion`), version and updated_at bumped as TypeORM does, with the caller's CTEs (`name AS (...)`, reading
   * `route`) in the same statement. False when the row changed meanwhile: nothing is written.
   */
  async recordFirst(r: FirstRecord, ctes: Sql[]): Promise<boolean> {
    const [{ recorded }] = await this.prepared<{ recorded: number }>(
      sql`WITH route AS (UPDATE ${this.routes.table} SET stripe_payment_intent_id = ${r.stripe_payment_intent_id},
              status = ${r.status}, stripe_status = ${r.stripe_status}, stripe_object_id = ${r.stripe_object_id},
              version = version + 1, updated_at = CURRENT_TIMESTAMP
            WHERE id = ${r.id} AND tenant_id = ${r.tenant_id} AND xmin = ${r.rowVersion}::xid RETURNING id)
          ${ctes.length ? sql`, ${join(ctes, ',\n')}` : empty}
          SELECT count(*)::int AS recorded FROM route`,
    );
    return recorded === 1;
  }

  /** Appends one attempt to the route (a jsonb append: concurrent writers of other columns are untouched). */
  async addAttempt(id: string, tenantId: string, attempt: PaymentAttempt): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE payment_routes SET attempts = attempts || ${JSON.stringify([attempt])}::jsonb
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }

  /** The routed attempt that was unknown learns its outcome (a route without attempts has none to update). */
  async resolveAttempt(id: string, tenantId: string, resolved: Record<string, unknown>): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE payment_routes
             SET attempts = jsonb_set(attempts, ARRAY[(jsonb_array_length(attempts) - 1)::text],
                   attempts -> -1 || ${JSON.stringify(resolved)}::jsonb)
           WHERE id = ${id} AND tenant_id = ${tenantId} AND attempts -> -1 ->> 'outcome' = 'unknown'`,
    );
  }

  /**
   * The tenant of a route known by id alone (a platform caller's refund, a cancel): a row lock then names it, as
   * Citus needs to send the lock to the route's one shard.
   */
  async tenantOf(db: Db, where: { id: string } | { stripe_object_id: string }): Promise<string | undefined> {
    const cond = 'id' in where ? sql`id = ${where.id}` : sql`stripe_object_id = ${where.stripe_object_id}`;
    return (
      await one<{ tenant_id: string }>(db, sql`SELECT tenant_id FROM payment_routes WHERE ${cond} LIMIT 1`)
    )?.tenant_id;
  }

  /** Routes of these PaymentIntents, oldest first (a platform webhook's way to its tenant). */
  async tenantsByPaymentIntent(
    db: Db,
    paymentIntentIds: string[],
  ): Promise<Array<{ stripe_payment_intent_id: string; tenant_id: string; created_at: Date }>> {
    return rows(
      db,
      sql`SELECT stripe_payment_intent_id, tenant_id, created_at FROM payment_routes
           WHERE stripe_payment_intent_id = ANY(${paymentIntentIds}) ORDER BY created_at`,
    );
  }

  /** What the payment's refunds hold or took (those not failed or canceled). */
  async refundedOf(manager: EntityManager, parentId: string, tenantId: string): Promise<number> {
    const row = await one<{ refunded: string }>(
      manager,
      sql`SELECT COALESCE(SUM(amount), 0)::bigint AS refunded FROM payment_routes
           WHERE parent_id = ${parentId} AND tenant_id = ${tenantId} AND type = 'refund'
             AND status NOT IN (${join(VOID_ROUTE_STATUSES.map((s) => sql`${s}`))})`,
    );
    return Number(row?.refunded ?? 0);
  }

  async setStripeDetails(
    manager: EntityManager,
    id: string,
    tenantId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await affected(
      manager,
      sql`UPDATE payment_routes SET stripe_details = ${JSON.stringify(details)}::jsonb, updated_at = now()
           WHERE id = ${id} AND tenant_id = ${tenantId}`,
    );
  }
}

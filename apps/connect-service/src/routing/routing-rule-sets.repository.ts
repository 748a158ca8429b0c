import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Sql, one, rows, sql } from '@app/database';

/**
 * The active rule set's id (or null) as a scalar subquery: a payment reads it in the statement that reads its account.
 * The status is a literal so that even a prepared statement's generic plan uses the partial unique index on it.
 */
export const ACTIVE_RULE_SET_ID: Sql = sql`(SELECT id FROM routing_rule_sets WHERE status = 'active')`;

/** routing_rule_sets beyond TypeORM: version numbers, the activation lock, the active id. */
@Injectable()
export class RoutingRuleSetsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async nextVersion(): Promise<number> {
    const row = await one<{ v: number }>(
      this.dataSource,
      sql`SELECT nextval('routing_rule_set_version_seq')::int AS v`,
    );
    return row!.v;
  }

  /** Serialises activations and rollbacks for the rest of `m`'s transaction. */
  async lockActivation(m: EntityManager, lock: string): Promise<void> {
    await rows(m, sql`SELECT pg_advisory_xact_lock(hashtext(${lock}))`);
  }

  async activeId(): Promise<string | null> {
    return (
      (await one<{ id: string | null }>(this.dataSource, sql`SELECT ${ACTIVE_RULE_SET_ID} AS id`))?.id ?? null
    );
  }
}

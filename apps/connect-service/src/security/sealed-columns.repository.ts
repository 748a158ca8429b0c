import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { affected, citusDistributed, empty, ident, rows, sql } from '@app/database';

/** The tables and columns that hold SecretBox values (names only from this list reach SQL). */
export const SEALED_TABLES = [
  'connect_accounts',
  'event_subscriptions',
  'idempotency_records',
  'event_destinations',
] as const;
export const SEALED_COLUMN_NAMES = [
  'access_token_enc',
  'refresh_token_enc',
  'secret_enc',
  'response_body_enc',
] as const;

export interface SealedRow {
  id: string;
  tenant_id: string | null;
  sealed: string;
}

/** Reads and rewrites sealed columns for the re-encryption, batch by batch under row locks. */
@Injectable()
export class SealedColumnsRepository {
  /**
   * Up to `limit` rows after `after` (by id) whose value is sealed under another key id than `keyId`, locked. Citus
   * refuses a row lock across shards: a table it distributes is read unlocked, and reseal()'s compare-and-set
   * still leaves a value written meanwhile as it is.
   */
  async lockStale(
    m: EntityManager,
    table: string,
    column: string,
    keyId: string,
    after: string,
    limit: number,
  ): Promise<SealedRow[]> {
    const t = ident(table, SEALED_TABLES);
    const c = ident(column, SEALED_COLUMN_NAMES);
    const tenant = table === 'connect_accounts' ? sql`tenant_id` : sql`NULL AS tenant_id`;
    const sharded = (await citusDistributed(m.connection)).has(table);
    return rows(
      m,
      sql`SELECT id::text AS id, ${tenant}, ${c} AS sealed FROM ${t}
           WHERE ${c} IS NOT NULL AND split_part(${c}, '.', 2) <> ${keyId} AND id > ${after}
           ORDER BY id LIMIT ${limit} ${sharded ? empty : sql`FOR UPDATE`}`,
    );
  }

  /** The value resealed, unless a concurrent write changed it meanwhile. */
  async reseal(
    m: EntityManager,
    table: string,
    column: string,
    row: SealedRow,
    resealed: string,
  ): Promise<void> {
    const c = ident(column, SEALED_COLUMN_NAMES);
    await affected(
      m,
      sql`UPDATE ${ident(table, SEALED_TABLES)} SET ${c} = ${resealed} WHERE id = ${row.id} AND ${c} = ${row.sealed}`,
    );
  }
}

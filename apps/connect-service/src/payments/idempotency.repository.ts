import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IdempotencyState, Sql, affected, one, sql } from '@app/database';

/** A request's claim of a key: who, which request (its hash), for how long, and the lease of an unfinished one. */
export interface KeyClaim {
  scope: string;
  key: string;
  hash: string;
  ttlHours: number;
  leaseSeconds: number;
}

export interface IdempotencyRow {
  id: string;
  request_hash: string;
  state: IdempotencyState;
  response_status: number | null;
  response_body_enc: string | null;
}

/** How long a stored answer is kept: a completed record expires then (an in-progress one with its lease). */
const ANSWER_TTL_HOURS = 24;

/** The tenant of a scope (the caller's sub, "|", the tenant): the record's shard when the database is sharded. */
export function tenantOfScope(scope: string): string {
  return scope.slice(scope.lastIndexOf('|') + 1);
}

/** idempotency_records: our Idempotency-Key's claims and stored answers. */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims the key, or an expired record of it, returning the record's id (no row when another request holds it).
   * A claim expires with its lease, a stored answer after its TTL (set by completeSql), so one comparison with the
   * new row's own timestamp decides: no now() in the conflict clause, which Citus refuses on a distributed table.
   * A statement of its own or a CTE of the caller's.
   */
  claimSql(c: KeyClaim): Sql {
    return sql`INSERT INTO idempotency_records (tenant_id, scope, key, request_hash, state, expires_at)
       VALUES (${tenantOfScope(c.scope)}, ${c.scope}, ${c.key}, ${c.hash}, 'in_progress',
               now() + make_interval(secs => ${c.leaseSeconds}))
       ON CONFLICT (scope, key, tenant_id) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
             response_body_enc = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
         WHERE idempotency_records.expires_at < EXCLUDED.created_at
       RETURNING id`;
  }

  async claim(c: KeyClaim): Promise<string | null> {
    return (await one<{ id: string }>(this.dataSource, this.claimSql(c)))?.id ?? null;
  }

  async read(scope: string, key: string): Promise<IdempotencyRow | null> {
    return (
      (await one<IdempotencyRow>(
        this.dataSource,
        sql`SELECT id, request_hash, state, response_status, response_body_enc
              FROM idempotency_records
             WHERE tenant_id = ${tenantOfScope(scope)} AND scope = ${scope} AND key = ${key}`,
      )) ?? null
    );
  }

  /** The answer stored (its body sealed by the caller), done only when `condition` holds (a caller's CTE). */
  completeSql(
    scope: string,
    id: string,
    status: number,
    sealedBody: string,
    condition: Sql = sql`true`,
  ): Sql {
    return sql`UPDATE idempotency_records SET state = 'completed', response_status = ${status},
                 response_body_enc = ${sealedBody}, expires_at = now() + make_interval(hours => ${ANSWER_TTL_HOURS})
                WHERE tenant_id = ${tenantOfScope(scope)} AND id = ${id} AND ${condition}`;
  }

  async complete(scope: string, id: string, status: number, sealedBody: string): Promise<void> {
    await affected(this.dataSource, this.completeSql(scope, id, status, sealedBody));
  }

  async remove(scope: string, id: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`DELETE FROM idempotency_records WHERE tenant_id = ${tenantOfScope(scope)} AND id = ${id}`,
    );
  }

  async purgeExpired(): Promise<number> {
    return affected(this.dataSource, sql`DELETE FROM idempotency_records WHERE expires_at < now()`);
  }
}

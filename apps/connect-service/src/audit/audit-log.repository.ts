import { Injectable } from '@nestjs/common';
import { AuditLogEntity, Db, Sql, affected, join, sql, trusted } from '@app/database';

export type AuditRow = Omit<AuditLogEntity, 'id' | 'created_at'>;

const COLUMNS = sql`actor, actor_type, tenant_id, action, target_type, target_id, outcome, ip, request_id, details`;

/** The row's values in the order of COLUMNS. */
const valuesOf = (r: AuditRow): Sql =>
  join([
    sql`${r.actor}`,
    sql`${r.actor_type}`,
    sql`${r.tenant_id}`,
    sql`${r.action}`,
    sql`${r.target_type}`,
    sql`${r.target_id}`,
    sql`${r.outcome}`,
    sql`${r.ip}`,
    sql`${r.request_id}`,
    sql`${JSON.stringify(r.details)}`,
  ]);

/** audit_log: append-only (a trigger refuses UPDATE and DELETE outside retention). */
@Injectable()
export class AuditLogRepository {
  async insert(db: Db, r: AuditRow): Promise<void> {
    await this.insertMany(db, [r]);
  }

  /** The rows in one statement. */
  async insertMany(db: Db, rows: AuditRow[]): Promise<void> {
    const values = join(rows.map((r) => sql`(${valuesOf(r)})`));
    await affected(db, sql`INSERT INTO audit_log (${COLUMNS}) VALUES ${values}`);
  }

  /** The row as a CTE body that inserts it once per row of `source` (a CTE of the caller's statement). */
  insertFrom(source: string, r: AuditRow): Sql {
    if (!/^[a-z_]+$/.test(source)) throw new Error(`unsafe CTE name ${JSON.stringify(source)}`);
    return sql`INSERT INTO audit_log (${COLUMNS}) SELECT ${valuesOf(r)} FROM ${trusted(source)}`;
  }
}

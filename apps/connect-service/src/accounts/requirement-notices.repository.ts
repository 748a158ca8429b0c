import { Injectable } from '@nestjs/common';
import { Db, affected, one, sql } from '@app/database';

export interface NoticeKey {
  tenantId: string;
  stripeAccountId: string;
  field: string;
  deadline: Date;
  offset: string;
}

/** requirement_notices: the claim of each reminder, unique per (tenant, account, field, deadline, offset). */
@Injectable()
export class RequirementNoticesRepository {
  /** True when this call claimed the notice; false when some replica (or an earlier run) already did. */
  async claim(db: Db, key: NoticeKey): Promise<boolean> {
    const row = await one<{ tenant_id: string }>(
      db,
      sql`INSERT INTO requirement_notices (tenant_id, stripe_account_id, field, deadline, "offset")
          VALUES (${key.tenantId}, ${key.stripeAccountId}, ${key.field}, ${key.deadline}, ${key.offset})
          ON CONFLICT DO NOTHING RETURNING tenant_id`,
    );
    return row !== undefined;
  }

  /** Links the claimed notices to the ConnectEvent that carried them. */
  async attachEvent(
    db: Db,
    tenantId: string,
    stripeAccountId: string,
    group: { deadline: string; offset: string },
    entries: Array<{ field: string }>,
    eventId: string,
  ): Promise<number> {
    return affected(
      db,
      sql`UPDATE requirement_notices SET connect_event_id = ${eventId}
           WHERE tenant_id = ${tenantId} AND stripe_account_id = ${stripeAccountId}
             AND deadline = ${new Date(group.deadline)} AND "offset" = ${group.offset}
             AND field = ANY(${entries.map((e) => e.field)})`,
    );
  }
}

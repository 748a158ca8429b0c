import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { one, sql } from '@app/database';

/** A state as its callback consumed it. */
export interface ConsumedState {
  id: string;
  tenant_id: string;
  caller_sub: string;
  scope: string;
}

/** oauth_states: the single-use consumption of a state (TypeORM does the rest). */
@Injectable()
export class OAuthStatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Marks the unexpired, unused state with this hash used (for `tenantId` when given) and answers it; of two
   * concurrent callers exactly one gets the row.
   */
  async consume(stateHash: string, tenantId: string | null): Promise<ConsumedState | null> {
    return (
      (await one<ConsumedState>(
        this.dataSource,
        sql`UPDATE oauth_states SET used_at = now()
             WHERE state_hash = ${stateHash} AND used_at IS NULL AND expires_at > now()
               AND (${tenantId}::varchar IS NULL OR tenant_id = ${tenantId})
             RETURNING id, tenant_id, caller_sub, scope`,
      )) ?? null
    );
  }
}

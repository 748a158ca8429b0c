import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { keysetPage } from '@app/common';
import { AuthRevocationEntity, RevocationKind, rows, sql } from '@app/database';
import { DataSource, EntityManager } from 'typeorm';

export interface NewRevocation {
  tenantId: string;
  kind: RevocationKind;
  value: string | null;
  issuedBefore: Date | null;
  expiresAt: Date;
  reason: string | null;
  createdBy: string;
}

/** The revocation fields every replica keeps in memory. */
export interface ActiveRevocation {
  id: string;
  tenant_id: string;
  kind: RevocationKind;
  value: string | null;
  issued_before: Date | null;
  expires_at: Date;
  created_at: Date;
}

@Injectable()
export class AuthRevocationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(m: EntityManager, r: NewRevocation): Promise<AuthRevocationEntity> {
    const [row] = await rows<AuthRevocationEntity>(
      m,
      sql`INSERT INTO auth_revocations (tenant_id, kind, value, issued_before, expires_at, reason, created_by)
          VALUES (${r.tenantId}, ${r.kind}, ${r.value}, ${r.issuedBefore}, ${r.expiresAt}, ${r.reason}, ${r.createdBy})
          RETURNING *`,
    );
    return row;
  }

  /**
   * Active revocations created after `since` (all active ones when null). The caller re-reads an overlap before its
   * watermark, since a row's `created_at` is its transaction's start, which may commit after a later row's.
   */
  async activeSince(since: Date | null): Promise<ActiveRevocation[]> {
    return rows<ActiveRevocation>(
      this.dataSource,
      sql`SELECT id, tenant_id, kind, value, issued_before, expires_at, created_at
            FROM auth_revocations
           WHERE expires_at > now() AND (${since}::timestamptz IS NULL OR created_at > ${since})
           ORDER BY created_at`,
    );
  }

  /** Active revocations, newest first; `tenantId` undefined lists every scope (platform callers). */
  async listActive(q: { tenantId?: string; limit: number; cursor?: string }) {
    const qb = this.dataSource
      .getRepository(AuthRevocationEntity)
      .createQueryBuilder('r')
      .where('r.expires_at > now()');
    if (q.tenantId !== undefined) qb.andWhere('r.tenant_id = :tenant', { tenant: q.tenantId });
    return keysetPage(qb, { column: 'created_at', limit: q.limit, cursor: q.cursor });
  }

  /** Rows past their expiry cover no valid token any more. */
  async deleteExpired(): Promise<void> {
    await rows(
      this.dataSource,
      sql`DELETE FROM auth_revocations WHERE expires_at < now() - interval '1 day'`,
    );
  }
}

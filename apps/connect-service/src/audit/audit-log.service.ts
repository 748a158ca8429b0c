import { Injectable, Logger } from '@nestjs/common';
import { keysetPage } from '@app/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Caller, tenantScopeOf } from '@app/auth';
import { AuditLogEntity } from '@app/database';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditActorType, AuditOutcome } from './audit-actions';
import { ContextRequest, currentRequest } from './request-context';

export interface AuditInput {
  action: AuditAction;
  outcome?: AuditOutcome;
  tenantId?: string | null;
  targetType?: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
  /** Defaults to the current request's caller (or `system` outside a request). */
  actor?: { id: string | null; type: AuditActorType };
}

export interface AuditQuery {
  tenantId?: string;
  action?: string;
  limit: number;
  cursor?: string;
}

type AuditRow = Omit<AuditLogEntity, 'id' | 'created_at'>;

/**
 * Writes the append-only audit log. `record(input, manager)` joins the caller's transaction, so the row commits
 * with the change it describes; `recordDetached(input)` is one INSERT issued without awaiting (failures and
 * actions without a transaction) whose own failure is logged, never swallowed silently.
 */
@Injectable()
export class AuditLogService {
  private readonly logger = new Logger('Audit');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(input: AuditInput, manager?: EntityManager): Promise<void> {
    await this.insert(manager ?? this.dataSource.manager, this.rowOf(input, currentRequest()));
  }

  recordDetached(input: AuditInput, req?: ContextRequest): void {
    const row = this.rowOf(input, req ?? currentRequest());
    this.insert(this.dataSource.manager, row).catch((err: unknown) => {
      this.logger.error(
        { err, action: row.action, outcome: row.outcome, actor: row.actor, tenant_id: row.tenant_id },
        'Audit row could not be written',
      );
    });
  }

  async list(
    caller: Caller,
    query: AuditQuery,
  ): Promise<{ rows: AuditLogEntity[]; has_more: boolean; next_cursor: string | null }> {
    const scope = tenantScopeOf(caller);
    const qb = this.dataSource.getRepository(AuditLogEntity).createQueryBuilder('a');
    const tenant = scope ?? query.tenantId;
    if (tenant !== undefined) qb.andWhere('a.tenant_id = :tenant', { tenant });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    return keysetPage(qb, { column: 'created_at', limit: query.limit, cursor: query.cursor });
  }

  private async insert(m: EntityManager, r: AuditRow): Promise<void> {
    await m.query(
      `INSERT INTO audit_log (actor, actor_type, tenant_id, action, target_type, target_id, outcome, ip, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        r.actor,
        r.actor_type,
        r.tenant_id,
        r.action,
        r.target_type,
        r.target_id,
        r.outcome,
        r.ip,
        r.request_id,
        JSON.stringify(r.details),
      ],
    );
  }

  private rowOf(input: AuditInput, req: ContextRequest | undefined): AuditRow {
    const caller = req?.user;
    const actor =
      input.actor ??
      (caller
        ? {
            id: caller.keyId ?? caller.sub,
            type: (caller.method === 'api_key' ? 'api_key' : 'user') as AuditActorType,
          }
        : { id: null, type: (req ? 'anonymous' : 'system') as AuditActorType });
    return {
      actor: actor.id?.slice(0, 255) ?? null,
      actor_type: actor.type,
      tenant_id: input.tenantId ?? caller?.tenantId ?? null,
      action: input.action,
      target_type: input.targetType ?? null,
      target_id: input.targetId?.slice(0, 255) ?? null,
      outcome: input.outcome ?? 'success',
      ip: req?.ip?.slice(0, 64) ?? null,
      request_id: req ? String(req.id).slice(0, 128) : null,
      details: input.details ?? {},
    };
  }
}

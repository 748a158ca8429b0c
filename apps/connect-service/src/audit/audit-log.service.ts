import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { keysetPage } from '@app/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Caller, tenantScopeOf } from '@app/auth';
import { AuditLogEntity, Sql } from '@app/database';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditActorType, AuditOutcome } from './audit-actions';
import { AuditLogRepository, AuditRow } from './audit-log.repository';
import { ContextRequest, currentRequest } from './request-context';

/** Rows per detached INSERT at most (10 parameters each). */
const MAX_ROWS_PER_INSERT = 500;

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

/** How a request's success is recorded (set by AuditInterceptor), and whether its service already wrote it. */
interface ExpectedSuccess {
  of: (result: unknown) => AuditInput;
  written: boolean;
}

/** The success row written by the request's own statement: confirm() once that statement inserted it. */
export interface SuccessRowSql {
  sql: Sql;
  confirm(): void;
}

/**
 * Writes the append-only audit log. `record(input, manager)` joins the caller's transaction, so the row commits
 * with the change it describes; `recordDetached(input)` is written without awaiting (failures and actions without a
 * transaction), grouped with the rows recorded meanwhile, its own failure logged, never swallowed silently;
 * `successRowSql` lets a service write its request's success row in its own statement.
 */
@Injectable()
export class AuditLogService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Audit');

  private readonly expected = new WeakMap<ContextRequest, ExpectedSuccess>();
  /** Detached rows not written yet, and the loop writing them (shutdown waits for it before the pool closes). */
  private readonly waiting: AuditRow[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rows: AuditLogRepository,
  ) {}

  async record(input: AuditInput, manager?: EntityManager): Promise<void> {
    await this.rows.insert(manager ?? this.dataSource.manager, this.rowOf(input, currentRequest()));
  }

  recordDetached(input: AuditInput, req?: ContextRequest): void {
    this.waiting.push(this.rowOf(input, req ?? currentRequest()));
    this.draining ??= this.drain();
  }

  /** Before the database pool closes (TypeORM's own shutdown hook), the detached rows in flight are written. */
  async beforeApplicationShutdown(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Group commit of the detached rows: one INSERT for all the rows recorded while the previous one ran, so a busy
   * service pays one round trip for many rows and an idle one writes a row at once.
   */
  private async drain(): Promise<void> {
    await Promise.resolve();
    while (this.waiting.length) {
      const rows = this.waiting.splice(0, MAX_ROWS_PER_INSERT);
      try {
        await this.rows.insertMany(this.dataSource.manager, rows);
      } catch (err) {
        // One row refused must not lose the others: each is retried alone, and a failure is logged per row.
        if (rows.length > 1) for (const row of rows) await this.writeAlone(row);
        else this.logFailure(err, rows[0]);
      }
    }
    this.draining = null;
  }

  private async writeAlone(row: AuditRow): Promise<void> {
    try {
      await this.rows.insert(this.dataSource.manager, row);
    } catch (err) {
      this.logFailure(err, row);
    }
  }

  private logFailure(err: unknown, row: AuditRow): void {
    this.logger.error(
      { err, action: row.action, outcome: row.outcome, actor: row.actor, tenant_id: row.tenant_id },
      'Audit row could not be written',
    );
  }

  /** AuditInterceptor: how this request's success is recorded, so its service may write that row itself. */
  expectSuccess(req: ContextRequest, of: (result: unknown) => AuditInput): void {
    this.expected.set(req, { of, written: false });
  }

  /**
   * The current request's success row, exactly as AuditInterceptor would record it for `result`, as a CTE body that
   * inserts it once per row of `source`: the row then commits with the change it describes. Null outside an
   * audited request.
   */
  successRowSql(result: unknown, source: string): SuccessRowSql | null {
    const req = currentRequest();
    const expected = req && this.expected.get(req);
    if (!req || !expected) return null;
    return {
      sql: this.rows.insertFrom(source, this.rowOf(expected.of(result), req)),
      confirm: () => {
        expected.written = true;
      },
    };
  }

  /** AuditInterceptor: true when the request's service wrote its success row in its own statement. */
  successWritten(req: ContextRequest): boolean {
    return this.expected.get(req)?.written ?? false;
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

import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { Caller, isPlatform, TokenFacts, TokenRevocations } from '@app/auth';
import { fieldError } from '@app/common';
import { authConfig } from '@app/config';
import { AuthRevocationEntity, RevocationKind } from '@app/database';
import { DataSource } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { ActiveRevocation, AuthRevocationsRepository } from './auth-revocations.repository';
import {
  revocationsActive,
  revocationsCreated,
  revocationSyncErrors,
  revokedTokenRefusals,
} from './auth-sessions.metrics';
import { ANY_TENANT, RevocationIndex } from './revocation-index';

export interface RevocationRequest {
  jti?: string;
  sid?: string;
  sub?: string;
  tenant_id?: string;
  issued_before?: Date;
  reason?: string;
}

/** Rows are re-read this far behind the newest one seen: a transaction may commit after a later-started one. */
const OVERLAP_MS = 10_000;
const PRUNE_EVERY_MS = 60_000;
const DELETE_EXPIRED_EVERY_MS = 3_600_000;
/** Per revocation and minute: refusals past this are counted, not each audited (a retrying client cannot flood). */
const AUDITED_REFUSALS_PER_MINUTE = 5;

/**
 * JWT revocations. PostgreSQL holds them; every replica keeps all active ones in memory and reads the new ones
 * every REVOCATION_SYNC_INTERVAL_MS, so a request is checked with no round trip at all and a revocation reaches
 * every replica within that interval. Redis plays no part: losing it cannot un-revoke anything, and a failed read
 * keeps what the replica already has.
 */
@Injectable()
export class AuthSessionsService extends TokenRevocations implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthSessions');
  private readonly index = new RevocationIndex();
  private watermark: Date | null = null;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | null = null;
  private lastPrune = Date.now();
  private lastDelete = 0;
  private readonly refusalBudget = new Map<string, { minute: number; count: number }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
    private readonly repo: AuthRevocationsRepository,
    private readonly audit: AuditLogService,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.cfg.revocationSyncMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
  }

  revokedBy(caller: Caller, facts: TokenFacts): string | null {
    const hit = this.index.match(caller, facts);
    if (!hit) return null;
    revokedTokenRefusals.inc({ kind: hit.kind });
    if (this.auditable(hit.id)) {
      this.audit.recordDetached({
        action: 'auth.revoked_token_refused',
        outcome: 'failure',
        tenantId: caller.tenantId,
        targetType: 'auth_revocation',
        targetId: hit.id,
        details: { kind: hit.kind },
      });
    }
    return hit.id;
  }

  async create(caller: Caller, input: RevocationRequest): Promise<AuthRevocationEntity> {
    const r = this.resolve(caller, input);
    const row = await this.dataSource.transaction(async (m) => {
      const created = await this.repo.insert(m, {
        ...r,
        createdBy: (caller.keyId ?? caller.sub).slice(0, 255),
      });
      await this.audit.record(
        {
          action: 'auth.revocation.create',
          tenantId: created.tenant_id === ANY_TENANT ? null : created.tenant_id,
          targetType: 'auth_revocation',
          targetId: created.id,
          details: { kind: created.kind, issued_before: created.issued_before?.toISOString() ?? null },
        },
        m,
      );
      return created;
    });
    // Effective on this replica at once; the others read it on their next sync.
    this.index.add(row);
    revocationsCreated.inc({ kind: row.kind });
    return row;
  }

  list(caller: Caller, q: { tenantId?: string; limit: number; cursor?: string }) {
    return this.repo.listActive({
      ...q,
      tenantId: isPlatform(caller) ? q.tenantId : (caller.tenantId ?? ''),
    });
  }

  /** Which revocation the body asks for, in which scope, and until when it must be kept. */
  private resolve(caller: Caller, input: RevocationRequest) {
    const forms = (['jti', 'sid', 'sub'] as const).filter((k) => input[k] !== undefined);
    if (forms.length > 1)
      throw fieldError(forms[1], 'Give exactly one of jti, sid, sub (or tenant_id alone)');
    const platform = isPlatform(caller);
    // The TenantGuard already refused a body tenant_id other than a tenant caller's own.
    const tenantId = platform ? (input.tenant_id ?? ANY_TENANT) : (caller.tenantId ?? '');
    if (!platform && tenantId === '') throw fieldError('tenant_id', 'The caller is not bound to a tenant');
    const kind: RevocationKind = forms.length > 0 ? forms[0] : 'tenant';
    const skewMs = this.cfg.clockSkewSeconds * 1000;
    const ttlMs = this.cfg.maxTtlSeconds * 1000;
    const now = Date.now();
    const base = { tenantId, kind, reason: input.reason ?? null };
    if (kind === 'jti' || kind === 'sid') {
      if (input.issued_before !== undefined)
        throw fieldError('issued_before', `issued_before does not apply to a ${kind} revocation`);
      // Any token carrying this id was issued by now (give or take the skew), so it is dead by then.
      return {
        ...base,
        value: input[kind]!,
        issuedBefore: null,
        expiresAt: new Date(now + ttlMs + 2 * skewMs),
      };
    }
    if (kind === 'tenant' && tenantId === ANY_TENANT)
      throw fieldError('tenant_id', 'Give one of jti, sid, sub, or tenant_id with issued_before');
    const before = input.issued_before;
    if (before === undefined) throw fieldError('issued_before', `A ${kind} revocation needs issued_before`);
    if (before.getTime() > now + skewMs)
      throw fieldError('issued_before', 'issued_before must not be in the future');
    const expiresAt = new Date(before.getTime() + ttlMs + skewMs);
    if (expiresAt.getTime() <= now)
      throw fieldError('issued_before', 'No token issued before this time can still be valid');
    return { ...base, value: kind === 'sub' ? input.sub! : null, issuedBefore: before, expiresAt };
  }

  private sync(): Promise<void> {
    this.syncing ??= this.readNew().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async readNew(): Promise<void> {
    const since = this.watermark ? new Date(this.watermark.getTime() - OVERLAP_MS) : null;
    let found: ActiveRevocation[];
    try {
      found = await this.repo.activeSince(since);
    } catch (err) {
      revocationSyncErrors.inc();
      this.logger.warn({ err }, 'Could not read new revocations; keeping the ones already known');
      return;
    }
    for (const r of found) {
      this.index.add(r);
      if (!this.watermark || r.created_at > this.watermark) this.watermark = r.created_at;
    }
    const now = Date.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.index.prune(now);
    }
    if (now - this.lastDelete >= DELETE_EXPIRED_EVERY_MS) {
      this.lastDelete = now;
      await this.repo.deleteExpired().catch(() => undefined);
    }
    revocationsActive.set(this.index.size);
  }

  private auditable(id: string): boolean {
    const minute = Math.floor(Date.now() / 60_000);
    if (this.refusalBudget.size > 10_000) this.refusalBudget.clear();
    const b = this.refusalBudget.get(id);
    if (!b || b.minute !== minute) {
      this.refusalBudget.set(id, { minute, count: 1 });
      return true;
    }
    b.count += 1;
    return b.count <= AUDITED_REFUSALS_PER_MINUTE;
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiKeyVerifier, Caller, isRole, missingScopes, Role, tenantScopeOf } from '@app/auth';
import { ServiceException, keysetPage, ErrorCode, fieldError } from '@app/common';
import { securityConfig, serviceConfig } from '@app/config';
import { ApiKeyEntity } from '@app/database';
import { DataSource, EntityManager } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { ApiKeyEnv, generateApiKey, hashApiKey, hashesEqual, parseApiKey } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';

export interface NewApiKey {
  name: string;
  role: Role;
  scopes: string[];
  tenantId: string | null;
  expiresAt: Date | null;
  createdBy: string;
}

interface CachedKey {
  hash: string;
  caller: Caller;
  expiresAtMs: number | null;
  cachedUntilMs: number;
}

/** Enough for every key a deployment uses; a flood of distinct valid keys only costs re-reads. */
const CACHE_MAX_ENTRIES = 10_000;
const LAST_USED_EVERY_MS = 60_000;

/**
 * API keys: issue, list, rotate, revoke, and verify `X-API-Key` for the AuthenticationGuard. Verified
 * keys are remembered for API_KEY_CACHE_SECONDS (never past their expiry, and evicted at once on this replica
 * when revoked or rotated), so the hot path is one hash and one map lookup.
 */
@Injectable()
export class ApiKeysService extends ApiKeyVerifier {
  private readonly logger = new Logger('ApiKeys');
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly env: ApiKeyEnv;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(securityConfig.KEY) private readonly cfg: ConfigType<typeof securityConfig>,
    @Inject(serviceConfig.KEY) svc: ConfigType<typeof serviceConfig>,
    private readonly audit: AuditLogService,
    private readonly keys: ApiKeysRepository,
  ) {
    super();
    this.env = svc.nodeEnv === 'production' ? 'live' : 'test';
  }

  async verify(rawKey: string): Promise<Caller | null> {
    const parsed = parseApiKey(rawKey);
    // A key minted for another environment never authenticates here (a test key leaked into production config).
    if (!parsed || parsed.env !== this.env) return null;
    const hash = hashApiKey(rawKey);
    const now = Date.now();
    let entry = this.cache.get(parsed.publicId);
    if (!entry || entry.cachedUntilMs <= now) {
      const row = await this.dataSource
        .getRepository(ApiKeyEntity)
        .findOne({ where: { public_id: parsed.publicId } });
      if (!row || row.revoked_at !== null) {
        this.cache.delete(parsed.publicId);
        return null;
      }
      entry = this.remember(row, now);
    }
    if (!hashesEqual(entry.hash, hash)) return null;
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= now) return null;
    this.touch(parsed.publicId, now);
    return entry.caller;
  }

  async create(
    caller: Caller,
    input: Omit<NewApiKey, 'createdBy'>,
  ): Promise<{ row: ApiKeyEntity; key: string }> {
    this.assertGrantable(caller, input);
    return this.dataSource.transaction(async (m) => {
      const issued = await this.issue(m, { ...input, createdBy: caller.keyId ?? caller.sub });
      await this.audit.record(
        {
          action: 'api_key.create',
          tenantId: issued.row.tenant_id,
          targetType: 'api_key',
          targetId: issued.row.id,
          details: { role: input.role, scopes: input.scopes },
        },
        m,
      );
      return issued;
    });
  }

  /** Inserts a key; also used by the `api-key:create` CLI, which has no caller. */
  async issue(m: EntityManager, input: NewApiKey): Promise<{ row: ApiKeyEntity; key: string }> {
    if (input.role !== 'platform' && !input.tenantId) {
      throw fieldError('tenant_id', 'tenant_id is required unless role is platform');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw fieldError('expires_at', 'expires_at must be in the future');
    }
    const { key, publicId, hash } = generateApiKey(this.env);
    const row = m.create(ApiKeyEntity, {
      public_id: publicId,
      env: this.env,
      name: input.name,
      secret_hash: hash,
      role: input.role,
      scopes: [...new Set(input.scopes)].sort(),
      tenant_id: input.role === 'platform' ? (input.tenantId ?? null) : input.tenantId,
      expires_at: input.expiresAt,
      revoked_at: null,
      replaced_by_id: null,
      last_used_at: null,
      created_by: input.createdBy.slice(0, 255),
    });
    return { row: await m.save(row), key };
  }

  async list(
    caller: Caller,
    q: { tenantId?: string; limit: number; cursor?: string },
  ): Promise<{ rows: ApiKeyEntity[]; has_more: boolean; next_cursor: string | null }> {
    const scope = tenantScopeOf(caller);
    const qb = this.dataSource.getRepository(ApiKeyEntity).createQueryBuilder('k');
    const tenant = scope ?? q.tenantId;
    if (tenant !== undefined) qb.andWhere('k.tenant_id = :tenant', { tenant });
    return keysetPage(qb, { column: 'created_at', limit: q.limit, cursor: q.cursor });
  }

  async revoke(caller: Caller, id: string): Promise<ApiKeyEntity> {
    const row = await this.dataSource.transaction(async (m) => {
      const key = await this.lockVisible(m, caller, id);
      if (key.revoked_at === null) {
        key.revoked_at = new Date();
        await m.update(ApiKeyEntity, { id: key.id }, { revoked_at: key.revoked_at });
        await this.audit.record(
          { action: 'api_key.revoke', tenantId: key.tenant_id, targetType: 'api_key', targetId: key.id },
          m,
        );
      }
      return key;
    });
    this.cache.delete(row.public_id);
    return row;
  }

  /** A new key with the same grants; the old one keeps working for API_KEY_ROTATION_GRACE_SECONDS. */
  async rotate(
    caller: Caller,
    id: string,
  ): Promise<{ row: ApiKeyEntity; key: string; previous: ApiKeyEntity }> {
    const result = await this.dataSource.transaction(async (m) => {
      const old = await this.lockVisible(m, caller, id);
      const now = Date.now();
      if (old.revoked_at !== null || (old.expires_at !== null && old.expires_at.getTime() <= now)) {
        throw new ServiceException(ErrorCode.Conflict, 'A revoked or expired key cannot be rotated');
      }
      if (old.replaced_by_id !== null) {
        throw new ServiceException(
          ErrorCode.Conflict,
          'This key was already rotated; rotate its replacement instead',
          {
            replaced_by_id: old.replaced_by_id,
          },
        );
      }
      if (!isRole(old.role))
        throw new ServiceException(ErrorCode.Internal, 'Stored API key has an unknown role');
      const issued = await this.issue(m, {
        name: old.name,
        role: old.role,
        scopes: old.scopes,
        tenantId: old.tenant_id,
        expiresAt: old.expires_at,
        createdBy: caller.keyId ?? caller.sub,
      });
      const graceEnd = new Date(now + this.cfg.apiKeyRotationGraceSeconds * 1000);
      old.expires_at = old.expires_at && old.expires_at < graceEnd ? old.expires_at : graceEnd;
      old.replaced_by_id = issued.row.id;
      await m.update(
        ApiKeyEntity,
        { id: old.id },
        { expires_at: old.expires_at, replaced_by_id: old.replaced_by_id },
      );
      await this.audit.record(
        {
          action: 'api_key.rotate',
          tenantId: old.tenant_id,
          targetType: 'api_key',
          targetId: old.id,
          details: { replaced_by_id: issued.row.id, old_key_expires_at: old.expires_at.toISOString() },
        },
        m,
      );
      return { ...issued, previous: old };
    });
    this.cache.delete(result.previous.public_id);
    return result;
  }

  /** Keys are a platform concern, but a tenant-bound platform caller still only sees its tenant's keys. */
  private async lockVisible(m: EntityManager, caller: Caller, id: string): Promise<ApiKeyEntity> {
    const row = await m
      .getRepository(ApiKeyEntity)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    const scope = tenantScopeOf(caller);
    if (!row || (scope !== null && row.tenant_id !== scope))
      throw new ServiceException(ErrorCode.NotFound, 'Not found');
    return row;
  }

  /** No escalation: a caller can only grant scopes it holds, a role up to its own. */
  private assertGrantable(caller: Caller, input: Omit<NewApiKey, 'createdBy'>): void {
    const missing = missingScopes(caller, input.scopes);
    if (missing.length) {
      throw new ServiceException(ErrorCode.Forbidden, 'A key cannot carry scopes its creator lacks', {
        missing_scopes: missing,
      });
    }
    if (!caller.roles.includes('platform') && !caller.roles.includes(input.role)) {
      throw new ServiceException(ErrorCode.Forbidden, 'A key cannot carry a role its creator lacks');
    }
  }

  private remember(row: ApiKeyEntity, now: number): CachedKey {
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
    const expiresAtMs = row.expires_at?.getTime() ?? null;
    const entry: CachedKey = {
      hash: row.secret_hash,
      expiresAtMs,
      cachedUntilMs: now + this.cfg.apiKeyCacheSeconds * 1000,
      caller: {
        sub: `api_key:${row.public_id}`,
        tenantId: row.tenant_id,
        roles: isRole(row.role) ? [row.role] : [],
        scopes: row.scopes,
        method: 'api_key',
        keyId: row.public_id,
      },
    };
    this.cache.set(row.public_id, entry);
    return entry;
  }

  /** `last_used_at`, at most once a minute per key per replica, never awaited by the request. */
  private touch(publicId: string, now: number): void {
    const last = this.lastUsedWritten.get(publicId) ?? 0;
    if (now - last < LAST_USED_EVERY_MS) return;
    if (this.lastUsedWritten.size >= CACHE_MAX_ENTRIES) this.lastUsedWritten.clear();
    this.lastUsedWritten.set(publicId, now);
    this.keys
      .touch(publicId)
      .catch((err: unknown) => this.logger.warn({ err, key: publicId }, 'last_used_at not updated'));
  }
}

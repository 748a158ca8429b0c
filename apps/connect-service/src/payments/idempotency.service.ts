import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  SecretBox,
  ServiceException,
  ErrorCode,
  fieldError,
  isDatabaseUnavailable,
  whileDatabaseUnavailable,
} from '@app/common';
import { IdempotencyState } from '@app/database';

export interface StoredResponse {
  status: number;
  body: unknown;
}

const TTL_HOURS = 24;
/** How long a completed answer is kept (expires_at of a completed record). */
const ANSWER_TTL = `now() + interval '${TTL_HOURS} hours'`;
const WAIT_BOUND_MS = 15_000;
const POLL_MS = 100;
const MAX_KEY_LENGTH = 255;
/**
 * An `in_progress` claim older than this belongs to a request that died with its process (a crash, a SIGKILL):
 * the key is claimable again. Far above what a live request can take (Stripe calls are bounded by their timeouts).
 */
const CLAIM_LEASE_SECONDS = 120;

/**
 * Claims the key, or an expired record of it; parameters from $first on: scope, key, request hash, lease seconds.
 * An in-progress claim expires with its lease, a completed answer after the TTL (set when it is stored), so one
 * comparison with the new row's own timestamp decides: no now() in the conflict clause, which Citus refuses on a
 * distributed table. Without RETURNING, so it can be a CTE's body.
 */
function claimSql(first: number): string {
  const [scope, key, hash, lease] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  return `INSERT INTO idempotency_records (tenant_id, scope, key, request_hash, state, expires_at)
       VALUES (${tenantOf(scope)}, ${scope}, ${key}, ${hash}, 'in_progress', now() + make_interval(secs => ${lease}))
       ON CONFLICT (scope, key, tenant_id) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
             response_body_enc = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
         WHERE idempotency_records.expires_at < EXCLUDED.created_at`;
}
const CLAIM_SQL = claimSql(1);

/** The record's tenant, from the scope parameter (the caller's sub, "|", the tenant): the claim's shard when sharded. */
function tenantOf(scopeParam: string): string {
  return `regexp_replace(${scopeParam}::text, '^.*[|]', '')`;
}

const answerContext = (id: string): string => `idempotency_records.response_body:${id}`;

/** The stored answer: its body sealed (it carries the PaymentIntent's client_secret) and bound to its record. */
const sealAnswer = (box: SecretBox, id: string, response: StoredResponse): string =>
  box.seal(JSON.stringify(response.body), answerContext(id));

/** Thrown by IdempotencyClaim.claimed when the handler's statement found the key taken. */
class KeyTaken extends Error {}
const TAKEN = Symbol('taken');

/** SQL for a caller's own statement, with its parameters. */
export interface SqlPart {
  sql: string;
  params: unknown[];
}

/**
 * An Idempotency-Key that the handler claims in its own first write (`cte()`) and answers in its own last write
 * (`answerCte()`), for IdempotencyService.runClaiming.
 */
export class IdempotencyClaim {
  /** The record, once this request owns the key. */
  id: string | null = null;
  /** The handler's statement stored the answer: nothing is left to store. */
  answered = false;

  constructor(
    private readonly box: SecretBox,
    readonly scope: string,
    readonly key: string,
    readonly hash: string,
  ) {}

  /** The claim as a CTE body returning `id`, parameters from $first on; null when the key is claimed already. */
  cte(first: number): SqlPart | null {
    if (this.id !== null) return null;
    return {
      sql: `${claimSql(first)} RETURNING id`,
      params: [this.scope, this.key, this.hash, CLAIM_LEASE_SECONDS],
    };
  }

  /** What the handler's statement returned of the claim; throws (handled by the service) when it found the key taken. */
  claimed(id: string | null | undefined): void {
    if (this.id !== null) return;
    if (!id) throw new KeyTaken('Idempotency-Key taken');
    this.id = id;
  }

  /**
   * The answer stored as complete() stores it, as a CTE body (an UPDATE) with parameters from $first on, done only
   * when `condition` (SQL) holds; the handler calls stored() once its statement did it.
   */
  answerCte(first: number, response: StoredResponse, condition = 'true'): SqlPart {
    if (this.id === null) throw new Error('The Idempotency-Key is not claimed');
    return {
      sql: `UPDATE idempotency_records SET state = 'completed', response_status = $${first + 1},
              response_body_enc = $${first + 2}, expires_at = ${ANSWER_TTL}
            WHERE id = $${first} AND tenant_id = ${tenantOf(`$${first + 3}`)} AND ${condition}`,
      params: [this.id, response.status, sealAnswer(this.box, this.id, response), this.scope],
    };
  }

  /** The handler's statement stored the answer (answerCte's condition held). */
  stored(): void {
    this.answered = true;
  }
}

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

/**
 * Our `Idempotency-Key`, modelled on Stripe's (https://docs.stripe.com/api/idempotent_requests):
 * the first request with a key claims it with `INSERT ... ON CONFLICT DO NOTHING` (the unique constraint is the
 * lock, so replicas agree); duplicates wait for the first to finish and get its status and body; another body
 * with the same key is IdempotencyKeyReused. Definite answers (2xx and 4xx) are kept 24 h; a 5xx releases the key so
 * the client can retry it.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger('Idempotency');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  async run(
    scope: string,
    key: string | undefined,
    hash: string,
    execute: () => Promise<StoredResponse>,
  ): Promise<StoredResponse> {
    return this.serve(scope, key, hash, () => execute(), false);
  }

  /**
   * run() for a handler that claims the key in its own first write and stores its answer in its own last write
   * (IdempotencyClaim): two statements fewer a request. Its claim may find the key taken (IdempotencyClaim.claimed
   * then throws), and the duplicate waits or replays as in run(); a handler given no claim (no key) just runs.
   */
  async runClaiming(
    scope: string,
    key: string | undefined,
    hash: string,
    execute: (claim: IdempotencyClaim | null) => Promise<StoredResponse>,
  ): Promise<StoredResponse> {
    return this.serve(scope, key, hash, execute, true);
  }

  private async serve(
    scope: string,
    key: string | undefined,
    hash: string,
    execute: (claim: IdempotencyClaim | null) => Promise<StoredResponse>,
    inline: boolean,
  ): Promise<StoredResponse> {
    if (key === undefined) return execute(null);
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw fieldError('Idempotency-Key', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const deadline = Date.now() + WAIT_BOUND_MS;
    // Only the first try lets the handler claim in its own statement; after a wait the key is claimed here first.
    let handlerClaims = inline;
    for (;;) {
      const claim = new IdempotencyClaim(this.box, scope, key, hash);
      if (!handlerClaims) claim.id = await this.claim(scope, key, hash);
      if (handlerClaims || claim.id !== null) {
        const response = await this.executeAndStore(claim, execute);
        if (response !== TAKEN) return response;
      }
      handlerClaims = false;
      const row = await this.read(scope, key);
      if (row) {
        if (row.request_hash !== hash) {
          throw new ServiceException(
            ErrorCode.IdempotencyKeyReused,
            'This Idempotency-Key was used with a different request',
            {
              idempotency_key: key,
            },
          );
        }
        if (
          row.state === IdempotencyState.Completed &&
          row.response_status !== null &&
          row.response_body_enc
        ) {
          return {
            status: row.response_status,
            body: JSON.parse(this.box.open(row.response_body_enc, answerContext(row.id))),
          };
        }
      }
      if (Date.now() > deadline) {
        throw new ServiceException(
          ErrorCode.IdempotencyInProgress,
          'A request with this Idempotency-Key is still in progress; retry later',
          {
            idempotency_key: key,
          },
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** Claims the key (or an expired record of it); returns the record id when this request owns it. */
  private async claim(scope: string, key: string, hash: string): Promise<string | null> {
    const rows = (await this.dataSource.query(`${CLAIM_SQL} RETURNING id`, [
      scope,
      key,
      hash,
      CLAIM_LEASE_SECONDS,
    ])) as { id: string }[];
    return rows[0]?.id ?? null;
  }

  private async read(
    scope: string,
    key: string,
  ): Promise<{
    id: string;
    request_hash: string;
    state: IdempotencyState;
    response_status: number | null;
    response_body_enc: string | null;
  } | null> {
    const rows = (await this.dataSource.query(
      `SELECT id, request_hash, state, response_status, response_body_enc FROM idempotency_records
        WHERE tenant_id = ${tenantOf('$1')} AND scope = $1 AND key = $2`,
      [scope, key],
    )) as {
      id: string;
      request_hash: string;
      state: IdempotencyState;
      response_status: number | null;
      response_body_enc: string | null;
    }[];
    return rows[0] ?? null;
  }

  /** TAKEN when the handler's own claim, or the claim of a refusal it threw before claiming, found the key taken. */
  private async executeAndStore(
    claim: IdempotencyClaim,
    execute: (claim: IdempotencyClaim | null) => Promise<StoredResponse>,
  ): Promise<StoredResponse | typeof TAKEN> {
    let response: StoredResponse;
    try {
      response = await execute(claim);
    } catch (err) {
      if (err instanceof KeyTaken) return TAKEN;
      const definite = err instanceof ServiceException && err.httpStatus < 500 ? err : null;
      // Refused before its statement claimed the key (validation, an account that cannot take charges): the answer
      // still belongs to the key, unless the key is another request's, whose answer then wins.
      if (claim.id === null) {
        if (!definite) throw err;
        claim.id = await this.claim(claim.scope, claim.key, claim.hash);
        if (claim.id === null) return TAKEN;
      }
      if (definite)
        await this.complete(claim.scope, claim.id, { status: definite.httpStatus, body: definite.toBody() });
      else await this.release(claim.scope, claim.id);
      throw err;
    }
    if (claim.id === null) throw new Error('The handler answered without claiming its Idempotency-Key');
    if (!claim.answered) await this.complete(claim.scope, claim.id, response);
    return response;
  }

  /**
   * A definite answer is stored even across a database restart: a retry of the same key (perhaps already answered
   * 503 by the request deadline) then gets this answer instead of doing the work twice.
   */
  private async complete(scope: string, id: string, response: StoredResponse): Promise<void> {
    await whileDatabaseUnavailable(() =>
      this.dataSource.query(
        `UPDATE idempotency_records SET state = 'completed', response_status = $2, response_body_enc = $3, expires_at = ${ANSWER_TTL}
          WHERE id = $1 AND tenant_id = ${tenantOf('$4')}`,
        [id, response.status, sealAnswer(this.box, id, response), scope],
      ),
    );
  }

  /**
   * Frees the key after a 5xx so the client can retry. When the database itself is what failed, the release is
   * retried in the background (the request answers now); the claim lease covers a process that dies meanwhile.
   */
  private async release(scope: string, id: string): Promise<void> {
    const drop = () =>
      this.dataSource.query(
        `DELETE FROM idempotency_records WHERE id = $1 AND tenant_id = ${tenantOf('$2')}`,
        [id, scope],
      );
    try {
      await drop();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      whileDatabaseUnavailable(drop).catch((e: unknown) =>
        this.logger.warn(
          `Idempotency key not released (${e instanceof Error ? e.message : String(e)}); it frees after ${CLAIM_LEASE_SECONDS} s`,
        ),
      );
    }
  }

  /** Drops expired records (called from the reconcile worker's housekeeping; cheap with the expires_at index). */
  async purgeExpired(): Promise<number> {
    const res = (await this.dataSource.query(`DELETE FROM idempotency_records WHERE expires_at < now()`)) as [
      unknown,
      number,
    ];
    return Array.isArray(res) ? Number(res[1] ?? 0) : 0;
  }
}

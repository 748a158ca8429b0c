import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import {
  SecretBox,
  ServiceException,
  ErrorCode,
  fieldError,
  isDatabaseUnavailable,
  whileDatabaseUnavailable,
} from '@app/common';
import { IdempotencyState, Sql } from '@app/database';
import { IdempotencyRepository, IdempotencyRow, KeyClaim } from './idempotency.repository';

export interface StoredResponse {
  status: number;
  body: unknown;
}

const TTL_HOURS = 24;
const WAIT_BOUND_MS = 15_000;
const POLL_MS = 100;
const MAX_KEY_LENGTH = 255;
/**
 * An `in_progress` claim older than this belongs to a request that died with its process (a crash, a SIGKILL):
 * the key is claimable again. Far above what a live request can take (Stripe calls are bounded by their timeouts).
 */
const CLAIM_LEASE_SECONDS = 120;

const claimOf = (scope: string, key: string, hash: string): KeyClaim => ({
  scope,
  key,
  hash,
  ttlHours: TTL_HOURS,
  leaseSeconds: CLAIM_LEASE_SECONDS,
});

const answerContext = (id: string): string => `idempotency_records.response_body:${id}`;

/** The stored answer: its body sealed (it carries the PaymentIntent's client_secret) and bound to its record. */
const sealAnswer = (box: SecretBox, id: string, response: StoredResponse): string =>
  box.seal(JSON.stringify(response.body), answerContext(id));

/** Thrown by IdempotencyClaim.claimed when the handler's statement found the key taken. */
class KeyTaken extends Error {}
const TAKEN = Symbol('taken');

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
    private readonly records: IdempotencyRepository,
    readonly scope: string,
    readonly key: string,
    readonly hash: string,
  ) {}

  /** The claim as a CTE body returning `id`; null when the key is claimed already. */
  cte(): Sql | null {
    if (this.id !== null) return null;
    return this.records.claimSql(claimOf(this.scope, this.key, this.hash));
  }

  /** What the handler's statement returned of the claim; throws (handled by the service) when it found the key taken. */
  claimed(id: string | null | undefined): void {
    if (this.id !== null) return;
    if (!id) throw new KeyTaken('Idempotency-Key taken');
    this.id = id;
  }

  /**
   * The answer stored as complete() stores it, as a CTE body (an UPDATE), done only when `condition` holds; the
   * handler calls stored() once its statement did it.
   */
  answerCte(response: StoredResponse, condition?: Sql): Sql {
    if (this.id === null) throw new Error('The Idempotency-Key is not claimed');
    return this.records.completeSql(
      this.scope,
      this.id,
      response.status,
      sealAnswer(this.box, this.id, response),
      condition,
    );
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
    private readonly records: IdempotencyRepository,
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
      const claim = new IdempotencyClaim(this.box, this.records, scope, key, hash);
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
    return this.records.claim(claimOf(scope, key, hash));
  }

  private async read(scope: string, key: string): Promise<IdempotencyRow | null> {
    return this.records.read(scope, key);
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
      this.records.complete(scope, id, response.status, sealAnswer(this.box, id, response)),
    );
  }

  /**
   * Frees the key after a 5xx so the client can retry. When the database itself is what failed, the release is
   * retried in the background (the request answers now); the claim lease covers a process that dies meanwhile.
   */
  private async release(scope: string, id: string): Promise<void> {
    const drop = () => this.records.remove(scope, id);
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
    return this.records.purgeExpired();
  }
}

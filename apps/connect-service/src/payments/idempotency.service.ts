import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox, ServiceException, ErrorCode, fieldError } from '@app/common';
import { IdempotencyState } from '@app/database';

export interface StoredResponse {
  status: number;
  body: unknown;
}

const TTL_HOURS = 24;
const WAIT_BOUND_MS = 15_000;
const POLL_MS = 100;
const MAX_KEY_LENGTH = 255;

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
    if (key === undefined) return execute();
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw fieldError('Idempotency-Key', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const deadline = Date.now() + WAIT_BOUND_MS;
    for (;;) {
      const claimed = await this.claim(scope, key, hash);
      if (claimed) return this.executeAndStore(claimed, execute);
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
            body: JSON.parse(this.box.open(row.response_body_enc, this.context(row.id))),
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
    const rows = (await this.dataSource.query(
      `INSERT INTO idempotency_records (scope, key, request_hash, state, expires_at)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => $4))
       ON CONFLICT (scope, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
             response_body_enc = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_records.expires_at < now()
       RETURNING id`,
      [scope, key, hash, TTL_HOURS],
    )) as { id: string }[];
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
      `SELECT id, request_hash, state, response_status, response_body_enc FROM idempotency_records WHERE scope = $1 AND key = $2`,
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

  private async executeAndStore(id: string, execute: () => Promise<StoredResponse>): Promise<StoredResponse> {
    let response: StoredResponse;
    try {
      response = await execute();
    } catch (err) {
      if (err instanceof ServiceException && err.httpStatus < 500) {
        await this.complete(id, { status: err.httpStatus, body: err.toBody() });
      } else {
        await this.dataSource.query(`DELETE FROM idempotency_records WHERE id = $1`, [id]);
      }
      throw err;
    }
    await this.complete(id, response);
    return response;
  }

  private async complete(id: string, response: StoredResponse): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_records SET state = 'completed', response_status = $2, response_body_enc = $3 WHERE id = $1`,
      [id, response.status, this.box.seal(JSON.stringify(response.body), this.context(id))],
    );
  }

  private context(id: string): string {
    return `idempotency_records.response_body:${id}`;
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

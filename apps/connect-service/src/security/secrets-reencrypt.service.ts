import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SecretBox } from '@app/common';
import { DataSource } from 'typeorm';
import { accessTokenContext, refreshTokenContext } from '../connect-oauth/connect-oauth.service';
import { subscriptionSecretContext } from '../events/event-subscriptions.service';
import { SealedColumnsRepository } from './sealed-columns.repository';

interface SealedColumn {
  table: string;
  column: string;
  /** The SecretBox context the writer used: re-sealing under another context would make the value unreadable. */
  context: (row: { id: string; tenant_id: string | null }) => string;
}

/** Every column holding a SecretBox value. A feature adding one adds it here (the re-encryption test lists them). */
export const SEALED_COLUMNS: SealedColumn[] = [
  {
    table: 'connect_accounts',
    column: 'access_token_enc',
    context: (r) => accessTokenContext(r.tenant_id ?? ''),
  },
  {
    table: 'connect_accounts',
    column: 'refresh_token_enc',
    context: (r) => refreshTokenContext(r.tenant_id ?? ''),
  },
  { table: 'event_subscriptions', column: 'secret_enc', context: (r) => subscriptionSecretContext(r.id) },
  // Must match IdempotencyService's private context (payments/idempotency.service.ts).
  {
    table: 'idempotency_records',
    column: 'response_body_enc',
    context: (r) => `idempotency_records.response_body:${r.id}`,
  },
];

export interface ReencryptResult {
  table: string;
  column: string;
  resealed: number;
  failed: number;
}

const BATCH = 200;

/**
 * Re-seals every stored secret under the current (first) ENCRYPTION_KEY while older keys still open them
 * (`npm run secrets:reencrypt`). Idempotent: only values sealed with another key id are touched. Batched, one
 * transaction per batch with row locks; the UPDATE also checks the old ciphertext, so a concurrent write wins.
 * Values no configured key opens are counted as failed and left as they are.
 */
@Injectable()
export class SecretsReencryptService {
  private readonly logger = new Logger('Reencrypt');
  /** Stateless: made here, so the service can be built with another SecretBox (a key rotation drill). */
  private readonly sealed = new SealedColumnsRepository();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  async run(): Promise<ReencryptResult[]> {
    const results: ReencryptResult[] = [];
    for (const col of SEALED_COLUMNS) results.push(await this.reencryptColumn(col));
    return results;
  }

  private async reencryptColumn(col: SealedColumn): Promise<ReencryptResult> {
    const result: ReencryptResult = { table: col.table, column: col.column, resealed: 0, failed: 0 };
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.dataSource.transaction(async (m) => {
        const rows = await this.sealed.lockStale(
          m,
          col.table,
          col.column,
          this.box.currentKeyId,
          after,
          BATCH,
        );
        for (const row of rows) {
          let resealed: string;
          try {
            const ctx = col.context(row);
            resealed = this.box.seal(this.box.open(row.sealed, ctx), ctx);
          } catch {
            result.failed += 1;
            this.logger.warn(
              { table: col.table, column: col.column, id: row.id },
              'Stored secret not re-encrypted: no configured key opens it',
            );
            continue;
          }
          await this.sealed.reseal(m, col.table, col.column, row, resealed);
          result.resealed += 1;
        }
        return rows;
      });
      if (batch.length < BATCH) return result;
      after = batch[batch.length - 1].id;
    }
  }
}

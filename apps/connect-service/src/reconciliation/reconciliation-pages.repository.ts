import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Db, affected, one, rows, sql } from '@app/database';

/** One platform list page of a run: the phase and the cursor it starts after ('' for the first page). */
export interface PageKey {
  runId: string;
  phase: string;
  cursor: string;
}

/** Platform list pages a run over every tenant fetches once and shares between its tenants' jobs. */
@Injectable()
export class ReconciliationPagesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** True for the one job that gets to fetch the page. */
  async claim(k: PageKey): Promise<boolean> {
    const claimed = await rows(
      this.dataSource,
      sql`INSERT INTO reconciliation_pages (run_id, phase, cursor) VALUES (${k.runId}, ${k.phase}, ${k.cursor})
          ON CONFLICT DO NOTHING RETURNING cursor`,
    );
    return claimed.length > 0;
  }

  async store(k: PageKey, page: unknown): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE reconciliation_pages SET data = ${JSON.stringify(page)}
           WHERE run_id = ${k.runId} AND phase = ${k.phase} AND cursor = ${k.cursor}`,
    );
  }

  /** Gives the claim up (the fetch failed) so another job fetches the page. */
  async release(k: PageKey): Promise<void> {
    await affected(
      this.dataSource,
      sql`DELETE FROM reconciliation_pages WHERE run_id = ${k.runId} AND phase = ${k.phase} AND cursor = ${k.cursor}`,
    );
  }

  /** Undefined when nobody holds the claim any more; `data` null while the claimer is still fetching. */
  async read<T>(k: PageKey): Promise<{ data: T | null } | undefined> {
    return one<{ data: T | null }>(
      this.dataSource,
      sql`SELECT data FROM reconciliation_pages WHERE run_id = ${k.runId} AND phase = ${k.phase} AND cursor = ${k.cursor}`,
    );
  }

  async deleteRun(db: Db, runId: string): Promise<void> {
    await affected(db, sql`DELETE FROM reconciliation_pages WHERE run_id = ${runId}`);
  }
}

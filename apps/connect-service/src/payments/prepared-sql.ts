import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The payment hot path's statements as named prepared statements: PostgreSQL parses and plans each once per
 * connection instead of on every call, which TypeORM's query() cannot ask for. The connection is checked out through a
 * TypeORM query runner, so it is guarded against connection errors exactly as every other query of the app. Each
 * distinct text gets a name of its own (a digest), so one name never stands for two texts.
 */
export class PreparedSql {
  private readonly names = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {}

  async query<T>(text: string, values: unknown[]): Promise<T[]> {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `connect_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.names.set(text, name);
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      return (await client.query({ name, text, values })).rows as T[];
    } finally {
      await runner.release();
    }
  }
}

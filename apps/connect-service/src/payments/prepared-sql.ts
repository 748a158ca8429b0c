import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * The payment hot path's statements as named prepared statements on TypeORM's own pool: PostgreSQL parses and plans
 * each once per connection instead of on every call, which TypeORM's query() cannot ask for. Each distinct text
 * gets a name of its own (a digest), so one name never stands for two texts.
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
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    return (await pool.query({ name, text, values })).rows as T[];
  }
}

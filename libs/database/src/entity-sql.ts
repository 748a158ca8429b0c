import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { Sql, join, sql, trusted } from './sql';

/**
 * Whole entity rows in plain SQL, mapped by the entity's own metadata (the schema's source of truth) the way
 * TypeORM's find() and insert() map them, for the payment hot path where building the query costs more CPU than
 * running it.
 */
export class EntitySql<T extends ObjectLiteral> {
  private readonly metadata: EntityMetadata;

  constructor(
    private readonly dataSource: DataSource,
    entity: EntityTarget<T>,
  ) {
    this.metadata = dataSource.getMetadata(entity);
  }

  /** The table's name, from the entity's metadata (never input). */
  get table(): Sql {
    return trusted(`"${this.metadata.tableName}"`);
  }

  /** The columns of `alias` (every one, or those of `only`), each named `${prefix}${column}` (for readRow). */
  selectList(alias: string, prefix: string, only?: (keyof T)[]): Sql {
    return trusted(
      this.metadata.columns
        .filter((c) => !only || only.includes(c.propertyName as keyof T))
        .map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.databaseName}"`)
        .join(', '),
    );
  }

  /**
   * The entity in `raw` (columns from selectList), hydrated as find() does; with `only`, like find() with `select`,
   * the other properties are absent. Null when every column is null.
   */
  readRow(raw: Record<string, unknown>, prefix: string): T | null {
    const entity = this.metadata.create() as T;
    let found = false;
    for (const column of this.metadata.columns) {
      const value = raw[`${prefix}${column.databaseName}`];
      if (value === undefined) continue;
      if (value !== null) found = true;
      column.setEntityValue(entity, this.dataSource.driver.prepareHydratedValue(value, column));
    }
    return found ? entity : null;
  }

  /**
   * The columns and values insert() would write for `entity`: those it sets, the version column (1 unless set), and no other
   * (their defaults apply, as with insert()).
   */
  insertValues(entity: Partial<T>): { columns: Sql; values: Sql } {
    const columns: string[] = [];
    const params: Sql[] = [];
    for (const column of this.metadata.columns) {
      const set: unknown = column.getEntityValue(entity);
      const value = set === undefined && column.isVersion ? 1 : set;
      if (value === undefined) continue;
      columns.push(`"${column.databaseName}"`);
      params.push(sql`${this.dataSource.driver.preparePersistentValue(value, column)}`);
    }
    return { columns: trusted(columns.join(', ')), values: join(params) };
  }

  /**
   * The SET list update() writes for `changes`: each property set, in the entity's column order (one text per set
   * of properties), the version column bumped and the update-date column set to now.
   */
  updateSet(changes: Partial<T>): Sql {
    const sets: Sql[] = [];
    for (const column of this.metadata.columns) {
      const name = `"${column.databaseName}"`;
      const value: unknown = column.getEntityValue(changes);
      if (column.isVersion) sets.push(trusted(`${name} = ${name} + 1`));
      else if (value !== undefined)
        sets.push(sql`${trusted(name)} = ${this.dataSource.driver.preparePersistentValue(value, column)}`);
      else if (column.isUpdateDate) sets.push(trusted(`${name} = CURRENT_TIMESTAMP`));
    }
    return join(sets);
  }
}

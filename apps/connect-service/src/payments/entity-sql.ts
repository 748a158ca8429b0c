import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

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

  get table(): string {
    return this.metadata.tableName;
  }

  /** The columns of `alias` (every one, or those of `only`), each named `${prefix}${column}` (for readRow). */
  selectList(alias: string, prefix: string, only?: (keyof T)[]): string {
    return this.metadata.columns
      .filter((c) => !only || only.includes(c.propertyName as keyof T))
      .map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.databaseName}"`)
      .join(', ');
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
   * (their defaults apply, as with insert()). Placeholders from $first on.
   */
  insertValues(
    entity: Partial<T>,
    first: number,
  ): { columns: string; placeholders: string; params: unknown[] } {
    const columns: string[] = [];
    const params: unknown[] = [];
    for (const column of this.metadata.columns) {
      const set: unknown = column.getEntityValue(entity);
      const value = set === undefined && column.isVersion ? 1 : set;
      if (value === undefined) continue;
      columns.push(`"${column.databaseName}"`);
      params.push(this.dataSource.driver.preparePersistentValue(value, column));
    }
    return {
      columns: columns.join(', '),
      placeholders: params.map((_, i) => `$${first + i}`).join(', '),
      params,
    };
  }
}

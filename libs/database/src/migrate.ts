import { DataSource } from 'typeorm';
import { one, rows, sql, trusted } from './sql';
import type { SqlInMemory } from 'typeorm/driver/SqlInMemory';

/** Arbitrary but fixed: every replica takes the same lock, so only one migrates at a time. */
const MIGRATION_LOCK_KEY = 724_001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so N replicas booting together (or
 * parallel test workers) never race on the schema. Returns the names of the migrations applied.
 */
export async function runMigrationsLocked(ds: DataSource): Promise<string[]> {
  return withMigrationLock(ds, async () => {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  });
}

/**
 * Reverts the most recently applied migration (its `down()`, in one transaction) under the same lock; returns its
 * name, or null when none is applied. The rollback procedure in docs/operations.md runs it once per migration to undo.
 */
export async function revertLastMigrationLocked(ds: DataSource): Promise<string | null> {
  return withMigrationLock(ds, async () => {
    const table = ds.driver.escape(ds.options.migrationsTableName ?? 'migrations');
    const exists = await one<{ t: string | null }>(ds, sql`SELECT to_regclass(${table}) AS t`);
    if (!exists?.t) return null;
    // The table's name as the driver escaped it (TypeORM's own setting, not input).
    const last = await one<{ name: string }>(
      ds,
      sql`SELECT name FROM ${trusted(table)} ORDER BY id DESC LIMIT 1`,
    );
    if (!last) return null;
    await ds.undoLastMigration({ transaction: 'each' });
    return last.name;
  });
}

async function withMigrationLock<T>(ds: DataSource, work: () => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await rows(runner, sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      return await work();
    } finally {
      await rows(runner, sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  } finally {
    await runner.release();
  }
}

/**
 * The SQL that would bring the migrated schema in line with the entities (TypeORM's schema builder `log()`). The
 * builder reads tables with several queries at once on ONE connection, which pg deprecates (pg 9 refuses it): its
 * runner's queries are run one after the other here.
 */
export async function schemaDiff(ds: DataSource): Promise<SqlInMemory> {
  const create = ds.createQueryRunner.bind(ds);
  ds.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>) => {
    const runner = create(...args);
    const query = runner.query.bind(runner);
    let chain: Promise<unknown> = Promise.resolve();
    runner.query = ((...q: Parameters<typeof query>) => {
      const run = chain.then(() => query(...q));
      chain = run.catch(() => undefined);
      return run;
    }) as typeof query;
    return runner;
  };
  try {
    return await ds.driver.createSchemaBuilder().log();
  } finally {
    ds.createQueryRunner = create;
  }
}

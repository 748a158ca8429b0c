import { DataSource } from 'typeorm';

/** Arbitrary but fixed: every replica takes the same lock, so only one migrates at a time. */
const MIGRATION_LOCK_KEY = 724_001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so N replicas booting together (or
 * parallel test workers) never race on the schema. Returns the names of the migrations applied.
 */
export async function runMigrationsLocked(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/*
 * `npm run migration:run`: runs pending migrations against DATABASE_URL, or without it against the embedded
 * development database (shared with a running `npm start`, or started for the command); the service also runs them
 * at boot.
 * `npm run migration:revert` (`migrate.js revert`): reverts the last applied migration; once per migration to undo.
 */
import { DataSource } from 'typeorm';
import { databaseConfig, serviceConfig } from '@app/config';
import { dataSourceOptions } from '../data-source-options';
import { resolveDatabaseUrl } from '../database.module';
import { stopEmbeddedPostgres } from '../embedded-postgres';
import { revertLastMigrationLocked, runMigrationsLocked } from '../migrate';

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'run';
  if (mode !== 'run' && mode !== 'revert') throw new Error(`unknown mode "${mode}": use run or revert`);
  const url = await resolveDatabaseUrl(databaseConfig(), serviceConfig());
  const ds = await new DataSource(dataSourceOptions(url, 2)).initialize();
  try {
    if (mode === 'revert') {
      const reverted = await revertLastMigrationLocked(ds);
      console.log(reverted ? `Reverted: ${reverted}` : 'No migration to revert');
      return;
    }
    const applied = await runMigrationsLocked(ds);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations');
  } finally {
    await ds.destroy();
  }
}

main()
  .then(() => stopEmbeddedPostgres())
  .catch(async (e: unknown) => {
    console.error(`migration failed: ${e instanceof Error ? e.message || String(e) : String(e)}`);
    await stopEmbeddedPostgres().catch(() => undefined);
    process.exit(1);
  });

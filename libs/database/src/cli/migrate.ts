/*
 * `npm run migration:run`: runs pending migrations against DATABASE_URL (the service also runs them at boot).
 * `npm run migration:revert` (`migrate.js revert`): reverts the last applied migration; once per migration to undo.
 */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';
import { revertLastMigrationLocked, runMigrationsLocked } from '../migrate';

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'run';
  if (mode !== 'run' && mode !== 'revert') throw new Error(`unknown mode "${mode}": use run or revert`);
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is required (the embedded development database migrates itself at boot)');
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

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

/* Runs pending migrations against DATABASE_URL (`npm run migration:run`). The service also runs them at boot. */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';
import { runMigrationsLocked } from '../migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is required (the embedded development database migrates itself at boot)');
  const ds = await new DataSource(dataSourceOptions(url, 2)).initialize();
  try {
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

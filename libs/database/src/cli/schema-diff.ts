/*
 * Prints the SQL that would bring the schema at DATABASE_URL (migrated) in line with the entities: the body of
 * the next migration when you change an entity. `npm run build && DATABASE_URL=... node dist/libs/database/src/cli/schema-diff.js`
 */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';
import { runMigrationsLocked, schemaDiff } from '../migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const ds = await new DataSource(dataSourceOptions(url, 2)).initialize();
  try {
    await runMigrationsLocked(ds);
    const sql = await schemaDiff(ds);
    for (const q of sql.upQueries) console.log(`UP   ${q.query};`);
    for (const q of sql.downQueries.reverse()) console.log(`DOWN ${q.query};`);
  } finally {
    await ds.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

import { DataSource } from 'typeorm';
import { MIGRATIONS } from './libs/database/src/migrations';
(async () => {
  const ds = new DataSource({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/mig_probe', migrations: MIGRATIONS });
  await ds.initialize();
  await ds.runMigrations();
  await ds.undoLastMigration();
  await ds.runMigrations();
  console.log('ok up/down/up');
  await ds.destroy();
})().catch((e) => { console.error(e); process.exit(1); });

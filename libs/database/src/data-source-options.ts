import { Logger } from '@nestjs/common';
import { DataSourceOptions } from 'typeorm';
import { AfterCommitSubscriber } from './after-commit';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

const poolLogger = new Logger('Database');

/** The one place the TypeORM options live: the app, the migration script and the tests all use it. */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    subscribers: [AfterCommitSubscriber],
    // Migrations only, everywhere (a reviewed, reversible change per schema step); they run at boot under an advisory lock (migrate.ts).
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    // A request waits at most 5 s for a connection of a saturated pool, then answers 503 (never hangs, never crashes).
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
    // Idle clients whose server went away (a restart, a failover) are dropped and replaced on the next checkout.
    poolErrorHandler: (err: Error) => poolLogger.warn(`database pool: ${err.message}`),
    applicationName: 'connect-service',
    // gen_random_uuid() is built into PostgreSQL 13+; uuid-ossp would need an extension.
    uuidExtension: 'pgcrypto',
  };
}

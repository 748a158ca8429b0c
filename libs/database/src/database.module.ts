import { Logger, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig, serviceConfig } from '@app/config';
import { dataSourceOptions } from './data-source-options';
import { openEmbeddedPostgres } from './embedded-postgres';
import { runMigrationsLocked } from './migrate';

const logger = new Logger('Database');

/** Resolves DATABASE_URL, or starts the embedded PostgreSQL in development. */
export async function resolveDatabaseUrl(
  db: ConfigType<typeof databaseConfig>,
  svc: ConfigType<typeof serviceConfig>,
): Promise<string> {
  if (db.url) {
    logger.log('Database: PostgreSQL from DATABASE_URL');
    return db.url;
  }
  // Validation already refuses production without DATABASE_URL; this is the development default.
  if (svc.nodeEnv === 'production') throw new Error('NODE_ENV=production requires DATABASE_URL');
  const opened = await openEmbeddedPostgres({
    dataDir: db.embeddedDataDir,
    port: db.embeddedPort,
    database: 'connect',
    log: (msg) => logger.warn(msg),
  });
  const where = opened.movedFrom
    ? `${opened.dataDir}, as ${opened.movedFrom} is out of its user's reach`
    : opened.dataDir;
  logger.warn(
    `DATABASE_URL is not set: ${opened.shared ? 'sharing the running' : 'started an'} EMBEDDED PostgreSQL ` +
      `(data in ${where}, port ${db.embeddedPort}); development only`,
  );
  return opened.url;
}

/**
 * The DataSource and repositories (`@InjectDataSource()`, `TypeOrmModule.forFeature`). Feature modules import
 * DatabaseModule to say they use the database; the connection itself is one per app, global by @nestjs/typeorm's design.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY, serviceConfig.KEY],
      useFactory: async (db: ConfigType<typeof databaseConfig>, svc: ConfigType<typeof serviceConfig>) =>
        dataSourceOptions(await resolveDatabaseUrl(db, svc), db.poolSize),
      dataSourceFactory: async (options) => {
        const ds = await new DataSource(options!).initialize();
        const applied = await runMigrationsLocked(ds);
        if (applied.length) logger.log(`Applied migrations: ${applied.join(', ')}`);
        return ds;
      },
    }),
  ],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}

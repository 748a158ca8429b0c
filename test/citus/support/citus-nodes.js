// Citus nodes from this machine's PostgreSQL binaries (never its running server): each node its own `initdb` on a
// free loopback port with `shared_preload_libraries = 'citus'`. Plain CommonJS, so both the sharding suite
// (citus-cluster.ts) and the bench (plain node) start their clusters with it. As root the servers run as
// `postgres`, since PostgreSQL refuses to run as root.
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

/** `{bindir, version}` of the PostgreSQL with Citus installed beside it, or `{missing}` saying why there is none. */
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
      missing:
        `Citus is not installed for ${version} (${pkglib}/citus.so missing). ` +
        'Install it from Citus packages, or build it: scripts/citus/install.sh <citus-13.2.2.tar.gz> [--patch <file>]',
    };
  return { bindir: run(pgConfig, ['--bindir']).out, version };
}

/** Runs a PostgreSQL binary, as `postgres` when we are root. */
function pgExec(bin, args) {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** A temporary folder the nodes' data directories go under (owned by `postgres` when we are root). */
function clusterRoot(prefix) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (asRoot) execFileSync('chown', ['postgres:postgres', root]);
  return root;
}

/** `initdb` of one node under `root`; `settings` are postgresql.conf lines beyond the Citus essentials. */
async function initNode(install, root, name, settings = []) {
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
  const file = path.join(dataDir, 'postgresql.auto.conf');
  fs.writeFileSync(file, conf.join('\n') + '\n');
  if (asRoot) execFileSync('chown', ['postgres:postgres', file]);
  return { name, port, dataDir };
}

function startNode(install, node) {
  pgExec(path.join(install.bindir, 'pg_ctl'), [
    '-D',
    node.dataDir,
    '-l',
    path.join(node.dataDir, 'server.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
}

function stopNode(install, node) {
  pgExec(path.join(install.bindir, 'pg_ctl'), ['-D', node.dataDir, '-m', 'immediate', '-w', 'stop']);
}

const nodeUrl = (node, database = 'postgres') => `postgres://postgres@127.0.0.1:${node.port}/${database}`;

/** One statement on a node's database, on a connection of its own. */
async function nodeQuery(node, text, values = [], database = 'postgres') {
  const c = new Client({ connectionString: nodeUrl(node, database) });
  await c.connect();
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Makes `name` a Citus database on `node` and registers it with the coordinator (the coordinator itself first). */
async function joinDatabase(coordinator, node, name) {
  await nodeQuery(node, `CREATE DATABASE "${name}"`);
  await nodeQuery(node, 'CREATE EXTENSION IF NOT EXISTS citus', [], name);
  if (node === coordinator)
    await nodeQuery(
      coordinator,
      `SELECT citus_set_coordinator_host('127.0.0.1', $1)`,
      [coordinator.port],
      name,
    );
  else await nodeQuery(coordinator, `SELECT citus_add_node('127.0.0.1', $1)`, [node.port], name);
}

module.exports = { findCitus, clusterRoot, initNode, startNode, stopNode, nodeUrl, nodeQuery, joinDatabase };

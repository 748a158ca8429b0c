import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * A private Citus cluster for the sharding suite: a coordinator and workers, each its own `initdb` on a free
 * loopback port with `shared_preload_libraries = 'citus'`, under a temporary folder. It uses the machine's
 * PostgreSQL binaries (Citus is built for them), never the machine's running server. As root, the servers run
 * as the `postgres` user, since PostgreSQL refuses to run as root.
 */

export interface CitusInstall {
  bindir: string;
  version: string;
}

/** The PostgreSQL binaries with Citus installed beside them, or why there are none (the suite skips). */
export function findCitus(): CitusInstall | { missing: string } {
  const pgConfig = ['pg_config', ...listPgConfigs()].find((p) => run(p, ['--version']).ok);
  if (!pgConfig)
    return { missing: 'no pg_config on this machine (PostgreSQL server binaries are not installed)' };
  const bindir = run(pgConfig, ['--bindir']).out;
  const pkglib = run(pgConfig, ['--pkglibdir']).out;
  const sharedir = run(pgConfig, ['--sharedir']).out;
  if (!existsSync(join(pkglib, 'citus.so')) || !existsSync(join(sharedir, 'extension', 'citus.control'))) {
    return {
      missing:
        `Citus is not installed for ${run(pgConfig, ['--version']).out} (${pkglib}/citus.so missing). ` +
        'Install it from Citus packages, or build it: scripts/citus/install.sh <citus-13.2.2.tar.gz> [--patch <file>]',
    };
  }
  return { bindir, version: run(pgConfig, ['--version']).out };
}

function listPgConfigs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  const majors = execFileSync('ls', [root])
    .toString()
    .split(/\s+/)
    .filter(Boolean)
    .sort((a, b) => Number(b) - Number(a));
  return majors.map((m) => join(root, m, 'bin', 'pg_config'));
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim() };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as `postgres` when we are root. */
function pgExec(bin: string, args: string[]): void {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

export class CitusNode {
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly bindir: string,
  ) {}

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    const c = new Client({ connectionString: this.url(database) });
    await c.connect();
    try {
      return (await c.query<R>(text, values)).rows;
    } finally {
      await c.end();
    }
  }

  start(): void {
    pgExec(join(this.bindir, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-l',
      join(this.dataDir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  stop(): void {
    pgExec(join(this.bindir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }
}

/** A coordinator and `workers` workers on loopback; `createDatabase` makes a Citus database on all of them. */
export class CitusCluster {
  private constructor(
    readonly root: string,
    readonly coordinator: CitusNode,
    readonly workers: CitusNode[],
    private readonly install: CitusInstall,
    private readonly databases: string[] = [],
  ) {}

  static async start(install: CitusInstall, workers = 2): Promise<CitusCluster> {
    const root = mkdtempSync(join(tmpdir(), 'connect-citus-'));
    if (asRoot) execFileSync('chown', ['postgres:postgres', root]);
    const coordinator = await CitusCluster.initNode(install, root, 'coordinator');
    const nodes: CitusNode[] = [];
    for (let i = 1; i <= workers; i++) nodes.push(await CitusCluster.initNode(install, root, `worker${i}`));
    const cluster = new CitusCluster(root, coordinator, nodes, install);
    for (const n of [coordinator, ...nodes]) n.start();
    return cluster;
  }

  private static async initNode(install: CitusInstall, root: string, name: string): Promise<CitusNode> {
    const dataDir = join(root, name);
    const port = await freePort();
    pgExec(join(install.bindir, 'initdb'), [
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
      // Shard moves copy through logical replication, so writes continue during a rebalance.
      `wal_level = logical`,
      `max_connections = 200`,
      `shared_buffers = 32MB`,
      `fsync = off`,
      `synchronous_commit = off`,
      `full_page_writes = off`,
      `citus.shard_count = 4`,
      `citus.log_remote_commands = off`,
    ];
    writeFileSync(join(dataDir, 'postgresql.auto.conf'), conf.join('\n') + '\n');
    if (asRoot) chownSync(join(dataDir, 'postgresql.auto.conf'), uidOf('postgres'), gidOf('postgres'));
    return new CitusNode(name, port, dataDir, install.bindir);
  }

  /** A database with the citus extension on every node, the workers registered on the coordinator. */
  async createDatabase(name: string): Promise<string> {
    for (const n of [this.coordinator, ...this.workers]) {
      await n.query(`CREATE DATABASE "${name}"`);
      await n.query('CREATE EXTENSION IF NOT EXISTS citus', [], name);
    }
    await this.coordinator.query(
      `SELECT citus_set_coordinator_host('127.0.0.1', $1)`,
      [this.coordinator.port],
      name,
    );
    for (const w of this.workers) {
      await this.coordinator.query(`SELECT citus_add_node('127.0.0.1', $1)`, [w.port], name);
    }
    this.databases.push(name);
    return this.coordinator.url(name);
  }

  /** Starts one more worker and registers it in every database made so far (shards move only on rebalance). */
  async addWorker(): Promise<CitusNode> {
    const node = await CitusCluster.initNode(this.install, this.root, `worker${this.workers.length + 1}`);
    node.start();
    for (const db of this.databases) {
      await node.query(`CREATE DATABASE "${db}"`);
      await node.query('CREATE EXTENSION IF NOT EXISTS citus', [], db);
      await this.coordinator.query(`SELECT citus_add_node('127.0.0.1', $1)`, [node.port], db);
    }
    this.workers.push(node);
    return node;
  }

  stop(): void {
    for (const n of [...this.workers, this.coordinator]) {
      try {
        n.stop();
      } catch {
        // already down
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

/**
 * The Citus install for a suite file and its `describe`: `describe.skip`, with the reason printed, where Citus is
 * not installed.
 */
export function citusSuite(): { install: CitusInstall | { missing: string }; describeCitus: jest.Describe } {
  const install = findCitus();
  if ('missing' in install) process.stdout.write(`[citus] skipped: ${install.missing}\n`);
  return { install, describeCitus: 'missing' in install ? describe.skip : describe };
}

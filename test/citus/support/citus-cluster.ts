import { rmSync } from 'node:fs';

/**
 * A private Citus cluster for the sharding suite: a coordinator and workers under a temporary folder, each its own
 * `initdb` on a free loopback port (citus-nodes.js, which the bench shares).
 */

export interface CitusInstall {
  bindir: string;
  version: string;
}

interface NodeDir {
  name: string;
  port: number;
  dataDir: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodes = require('./citus-nodes') as {
  findCitus(): CitusInstall | { missing: string };
  clusterRoot(prefix: string): string;
  initNode(install: CitusInstall, root: string, name: string, settings?: string[]): Promise<NodeDir>;
  startNode(install: CitusInstall, node: NodeDir): void;
  stopNode(install: CitusInstall, node: NodeDir): void;
  nodeUrl(node: NodeDir, database?: string): string;
  nodeQuery<R>(node: NodeDir, text: string, values?: unknown[], database?: string): Promise<R[]>;
  joinDatabase(coordinator: NodeDir, node: NodeDir, name: string): Promise<void>;
};

/** The PostgreSQL binaries with Citus installed beside them, or why there are none (the suite skips). */
export const findCitus = (): CitusInstall | { missing: string } => nodes.findCitus();

/** The suite's durability settings: a throwaway cluster, and logical WAL so shard moves keep writes flowing. */
const SUITE_SETTINGS = [
  `wal_level = logical`,
  `shared_buffers = 32MB`,
  `fsync = off`,
  `synchronous_commit = off`,
  `full_page_writes = off`,
  `citus.log_remote_commands = off`,
];

export class CitusNode implements NodeDir {
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly install: CitusInstall,
  ) {}

  url(database = 'postgres'): string {
    return nodes.nodeUrl(this, database);
  }

  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    return nodes.nodeQuery<R>(this, text, values, database);
  }

  start(): void {
    nodes.startNode(this.install, this);
  }

  stop(): void {
    nodes.stopNode(this.install, this);
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
    const root = nodes.clusterRoot('connect-citus-');
    const coordinator = await CitusCluster.initNode(install, root, 'coordinator');
    const list: CitusNode[] = [];
    for (let i = 1; i <= workers; i++) list.push(await CitusCluster.initNode(install, root, `worker${i}`));
    const cluster = new CitusCluster(root, coordinator, list, install);
    for (const n of [coordinator, ...list]) n.start();
    return cluster;
  }

  private static async initNode(install: CitusInstall, root: string, name: string): Promise<CitusNode> {
    const dir = await nodes.initNode(install, root, name, SUITE_SETTINGS);
    return new CitusNode(dir.name, dir.port, dir.dataDir, install);
  }

  /** A database with the citus extension on every node, the workers registered on the coordinator. */
  async createDatabase(name: string): Promise<string> {
    for (const n of [this.coordinator, ...this.workers]) await nodes.joinDatabase(this.coordinator, n, name);
    this.databases.push(name);
    return this.coordinator.url(name);
  }

  /** Starts one more worker and registers it in every database made so far (shards move only on rebalance). */
  async addWorker(): Promise<CitusNode> {
    const node = await CitusCluster.initNode(this.install, this.root, `worker${this.workers.length + 1}`);
    node.start();
    for (const db of this.databases) await nodes.joinDatabase(this.coordinator, node, db);
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

/**
 * The Citus install for a suite file and its `describe`: `describe.skip`, with the reason printed, where Citus is
 * not installed.
 */
export function citusSuite(): { install: CitusInstall | { missing: string }; describeCitus: jest.Describe } {
  const install = findCitus();
  if ('missing' in install) process.stdout.write(`[citus] skipped: ${install.missing}\n`);
  return { install, describeCitus: 'missing' in install ? describe.skip : describe };
}

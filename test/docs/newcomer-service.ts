import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../utils/eventually';
import { freePort } from '../utils/free-port';

/**
 * The service as a newcomer starts it (`npm start`): the built entry point with nothing configured, in a fresh
 * folder, so the embedded PostgreSQL, the in-process cache and the bundled emulator start. Only the ports move, so
 * that it runs beside a developer's own `npm start`.
 */
const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'dist/apps/connect-service/src/main.js');

export interface NewcomerService {
  base: string;
  port: number;
  /** The bundled emulator's base URL (its API answers any sk_test_ key). */
  emulatorBase: string;
  /** The platform token the start-up printed. */
  token: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startNewcomerService(): Promise<NewcomerService> {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
  // Readable by others: as root the embedded PostgreSQL runs as the `postgres` user and must reach its data folder.
  const dir = mkdtempSync(join(tmpdir(), 'connect-newcomer-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const emulatorPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    EMBEDDED_DATABASE_PORT: String(await freePort()),
    STRIPE_EMULATOR_PORT: String(emulatorPort),
  };
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      'the service to become ready',
      async () => {
        if (child.exitCode !== null) throw new Error('the service exited');
        const ready = await fetch(`${base}/health/ready`).catch(() => undefined);
        return ready?.ok;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const token = await eventually(
      'the printed platform token',
      () => Promise.resolve(/\b(eyJ[\w-]+\.[\w-]+\.[\w-]+)/.exec(out)?.[1]),
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    return { base, port, emulatorBase: `http://127.0.0.1:${emulatorPort}`, token, output: () => out, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; its output:\n${out}`);
  }
}

/** The ```bash blocks of one README section (from its `## ` heading to the next), as written. */
export function readmeBlocks(heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 4);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** Runs a bash script; answers its exit code and output (never throws on a failing script). */
export function bash(
  script: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { env, timeout: timeoutMs, maxBuffer: 10 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

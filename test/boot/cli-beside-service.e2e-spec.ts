import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../utils/eventually';
import { freePort } from '../utils/free-port';

/** The built service and a CLI from the same checkout, both on the development defaults, side by side. */
const DIST = join(__dirname, '../../dist/apps/connect-service/src');

function cli(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(DIST, script), ...args], { env, cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('CLIs beside a running service (development defaults)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcess;
  let base: string;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(join(DIST, 'main.js'))) throw new Error('dist is missing: run `npm run build`');
    dir = mkdtempSync(join(tmpdir(), 'connect-cli-'));
    // As root PostgreSQL runs as `postgres`, which must reach the data folder.
    chmodSync(dir, 0o755);
    const port = await freePort();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      EMBEDDED_DATABASE_PORT: String(await freePort()),
      STRIPE_EMULATOR_PORT: String(await freePort()),
    };
    base = `http://127.0.0.1:${port}`;
    service = spawn(process.execPath, [join(DIST, 'main.js')], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    service.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      'the service to become ready',
      async () => {
        if (service.exitCode !== null) throw new Error(`the service exited; its output:\n${output}`);
        return (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 90_000);

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('api-key:create shares the running database and emulator, and its key works against the service', async () => {
    const made = await cli(
      'cli/create-api-key.js',
      ['--role', 'platform', '--scopes', 'payments:read'],
      env,
      dir,
    );
    expect(made.stderr).not.toMatch(/EADDRINUSE|ExceptionHandler/);
    expect(made.code).toBe(0);
    const key = made.stdout.trim().split('\n').pop()!;
    const res = await fetch(`${base}/connect/payments?limit=1`, { headers: { 'x-api-key': key } });
    expect(res.status).toBe(200);
    // The service still answers: the command left the database it shared running.
    expect((await fetch(`${base}/health/ready`)).ok).toBe(true);
  });

  it('a command that cannot reach its database prints one line with the cause and exits 1', async () => {
    // The service's HTTP port is no PostgreSQL: the embedded database can be neither shared nor started there.
    const failed = await cli(
      'cli/create-api-key.js',
      ['--role', 'platform'],
      { ...env, EMBEDDED_DATABASE_PORT: env.PORT, STRIPE_EMULATOR_PORT: '0' },
      dir,
    );
    expect(failed.code).toBe(1);
    const lines = failed.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/^api-key:create failed: .*port \d+/);
    expect(failed.stderr).not.toMatch(/undefined|ExceptionHandler/);
  });
});

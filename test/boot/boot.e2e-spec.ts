import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@app/common';
import { eventually } from '../utils/eventually';
import { freePort } from '../utils/free-port';

/**
 * The README's start command, as a newcomer runs it: the production build (`npm test` builds first), no
 * configuration at all, so the embedded PostgreSQL, the in-process cache and the bundled Stripe emulator start.
 */
const MAIN = join(__dirname, '../../dist/apps/connect-service/src/main.js');

/** The environment a newcomer has: nothing of ours set. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

function run(
  env: NodeJS.ProcessEnv,
  cwd?: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('booting the built service (README start command)', () => {
  beforeAll(() => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
  });

  it('stops on invalid configuration with one message naming every bad variable', async () => {
    const { exited, output } = run(cleanEnv({ PORT: 'notaport', DATABASE_URL: 'not-a-url' }));
    expect(await exited).toBe(1);
    expect(output()).toContain('PORT');
    expect(output()).toContain('DATABASE_URL');
    expect(output()).not.toContain('not-a-url'); // a URL may hold a password: never echoed
  });

  it('refuses the development defaults in production, naming what is missing', async () => {
    const { exited, output } = run(cleanEnv({ NODE_ENV: 'production' }));
    expect(await exited).toBe(1);
    expect(output()).toMatch(
      /NODE_ENV=production refuses the development defaults: set DATABASE_URL, REDIS_URL, STRIPE_SECRET_KEY/,
    );
  });

  it('starts on the embedded defaults with nothing configured, answers its probes, and stops cleanly on SIGTERM', async () => {
    // A fresh working folder, as a fresh clone has: ./.data/ (embedded database, dev key) is created there.
    // Readable by others, since as root PostgreSQL runs as the `postgres` user and must reach its data folder.
    const dir = mkdtempSync(join(tmpdir(), 'connect-boot-'));
    chmodSync(dir, 0o755);
    const port = await freePort();
    const { child, exited, output } = run(
      cleanEnv({
        PORT: String(port),
        // Only the ports are moved, so that this test can run beside a developer's own `npm start`.
        EMBEDDED_DATABASE_PORT: String(await freePort()),
        STRIPE_EMULATOR_PORT: String(await freePort()),
      }),
      dir,
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(
        'the service to become ready',
        async () => {
          if (child.exitCode !== null) throw new Error(`the service exited; its output:\n${output()}`);
          const ready = await fetch(`${base}/health/ready`).catch(() => undefined);
          return ready?.ok;
        },
        { timeoutMs: 50_000, intervalMs: 500 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; its output:\n${output()}`);
      });
      expect(await (await fetch(`${base}/docs`)).text()).toContain('swagger');
      const doc = (await (await fetch(`${base}/docs-json`)).json()) as { openapi: string };
      expect(doc.openapi).toMatch(/^3\./);
      const notFound = await fetch(`${base}/no/such/route`);
      expect(notFound.status).toBe(404);
      expect(((await notFound.json()) as { code: string }).code).toBe(ErrorCode.RouteNotFound);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('http_request_duration_seconds');

      // The printed development token works against a guarded route.
      const token = /\n {2}(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n/.exec(output())?.[1];
      expect(token).toBeDefined();
      const account = await fetch(`${base}/connect/accounts/t1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(account.status).toBe(404);
      expect(output()).toMatch(/EMBEDDED PostgreSQL/);
      expect(existsSync(join(dir, '.data/postgres/PG_VERSION'))).toBe(true);
      expect(output()).toMatch(/Stripe is EMULATED/);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

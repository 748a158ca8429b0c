import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

/** `npm run lint:workflows` on a folder of workflows: its exit code and output. */
async function lintWorkflows(dir?: string): Promise<{ code: number; output: string }> {
  const env = { ...process.env, ...(dir ? { WORKFLOWS_DIR: dir } : {}) };
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'lint:workflows'], { cwd: root, env });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}

describe('GitHub Actions workflows', () => {
  const ci = readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8');
  const release = readFileSync(join(root, '.github/workflows/release.yml'), 'utf8');

  it('pass the workflow validator that `npm run lint` runs', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.lint).toContain('npm run lint:workflows');
    const { code, output } = await lintWorkflows();
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain('ci.yml: valid');
    expect(output).toContain('release.yml: valid');
  });

  it('make the lint fail on a broken workflow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
    try {
      writeFileSync(join(dir, 'ci.yml'), ci.replace('    steps:\n', '    stepz:\n'));
      const { code, output } = await lintWorkflows(dir);
      expect(code).not.toBe(0);
      expect(output).toContain("Additional property 'stepz' is not allowed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CI runs the steps of .ci/run, with PostgreSQL and Redis, on pushes and pull requests', () => {
    const local = readFileSync(join(root, '.ci/run'), 'utf8');
    for (const step of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test']) {
      expect(local).toContain(step);
      expect(ci).toMatch(new RegExp(`run: ${step}\\b`));
    }
    expect(ci).toContain('npm run test:faults');
    expect(ci).toMatch(/services:\n\s+postgres:\n\s+image: postgres:/);
    expect(ci).toMatch(/\n\s+redis:\n\s+image: redis:/);
    expect(ci).toMatch(/on:\n\s+push:\n\s+pull_request:/);
  });

  it('release publishes the Docker image to GHCR on a v* tag', () => {
    expect(release).toMatch(/tags:\n\s+- 'v\*'/);
    expect(release).toContain('docker/build-push-action@');
    expect(release).toContain('registry: ghcr.io');
    expect(release).toContain('packages: write');
  });
});

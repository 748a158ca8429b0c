import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

const PLANTED = [
  "import type { DataSource } from 'typeorm';",
  '',
  'export const planted = (ds: DataSource): Promise<unknown> =>',
  '  ds.query(`SELECT * FROM payment_routes WHERE id = $1`, [1]);',
  "export const price = 'costs $100.00';",
  '',
].join('\n');

/** ESLint (as `npm run lint` runs it) on a folder: its exit code and output. */
async function eslint(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['eslint', relative(root, dir)], { cwd: root });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}

describe('the SQL lint rule', () => {
  let dir: string;

  beforeAll(() => {
    // Inside apps/, where the rule applies (and the TypeScript project finds the files).
    dir = mkdtempSync(join(root, 'apps/connect-service/src/lint-probe-'));
    writeFileSync(join(dir, 'planted.service.ts'), PLANTED);
    writeFileSync(join(dir, 'planted.repository.ts'), PLANTED);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails on .query( outside a repository and on a hand-numbered placeholder anywhere, not on an amount', async () => {
    const { code, output } = await eslint(dir);
    expect(code).toBe(1);
    const lines = output.split('\n');
    const at = (file: string): string[] => {
      const start = lines.findIndex((l) => l.endsWith(file));
      const end = lines.findIndex((l, i) => i > start && l.trim() === '');
      return lines.slice(start + 1, end);
    };
    const service = at('planted.service.ts');
    expect(service.filter((l) => l.includes('SQL runs only in a `*.repository.ts`'))).toHaveLength(1);
    expect(service.filter((l) => l.includes('No hand-numbered placeholder'))).toHaveLength(1);
    const repository = at('planted.repository.ts');
    expect(repository.filter((l) => l.includes('SQL runs only in'))).toHaveLength(0);
    expect(repository.filter((l) => l.includes('No hand-numbered placeholder'))).toHaveLength(1);
    // Line 5 holds '$100.00': never reported.
    expect(output).not.toMatch(/^\s+5:\d+/m);
  }, 180_000);
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@app/common';

/** The docs and .env.example stay true to the code: every variable read and every error code is documented. */
const ROOT = join(__dirname, '../..');
// The README and the pages under docs/ it links to, read as one text.
const readme = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => join('docs', f))]
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(join(ROOT, f), 'utf8'))
  .join('\n');
const envExample = readFileSync(join(ROOT, '.env.example'), 'utf8');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Variables read through the config helpers (`str(env, 'X')`, `num(...)`, `list(...)`) or checked in env.ts. */
function configVariables(): string[] {
  const names = new Set<string>();
  for (const file of tsFiles(join(ROOT, 'libs/config/src'))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(
      /(?:str|num|list|int|url|oneOf|prefixed)\(\s*(?:env|process\.env)?\s*,?\s*'([A-Z][A-Z0-9_]+)'/g,
    ))
      names.add(m[1]);
  }
  return [...names].sort();
}

describe('documentation in sync with the code', () => {
  const vars = configVariables();

  it('finds the configuration variables', () => {
    expect(vars).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'JWT_SECRET']),
    );
  });

  it.each(vars)('documents %s in .env.example and the README', (name) => {
    expect(envExample).toMatch(new RegExp(`^${name}=`, 'm'));
    expect(readme).toContain(`\`${name}\``);
  });

  it.each(Object.entries(ERROR_CODES))(
    'lists error code %s in the README with its status',
    (code, { status, name }) => {
      expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\| \`${name}\` \\|`));
    },
  );
});

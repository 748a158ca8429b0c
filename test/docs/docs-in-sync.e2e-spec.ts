import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ERROR_CODES } from '@app/common';

/**
 * README.md and docs/ stay true to the code: every relative link resolves (file and #anchor), every variable the
 * configuration reads is documented once (one table row across README and docs) and in .env.example, and every
 * error code is listed with its status.
 */
const ROOT = join(__dirname, '../..');
const DOCS = join(ROOT, 'docs');
const PAGES = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(DOCS, n)),
];
const read = (path: string): string => readFileSync(path, 'utf8');
const envExample = read(join(ROOT, '.env.example'));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The variables libs/config reads, from its source: every quoted UPPER_SNAKE name (the readers and the checks take
 * the name as a literal: `str(env, 'PORT')`, `int('PORT', 1, 65535)`) and every `env.NAME`.
 */
export function configVariables(): string[] {
  const names = new Set<string>();
  for (const file of tsFiles(join(ROOT, 'libs/config/src'))) {
    const src = read(file).replace(/^\s*(\/\/|\*).*$/gm, '');
    for (const m of src.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'|\benv\.([A-Z][A-Z0-9_]*)\b/g))
      names.add(m[1] ?? m[2]);
  }
  return [...names].sort();
}

/** Markdown without its fenced blocks and inline code, where a `[x](y)` is not a link. */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function relativeLinks(page: string): { target: string; file: string; anchor?: string }[] {
  return [...prose(read(page)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((target) => {
      const [path, anchor] = target.split('#');
      return { target, file: path ? resolve(dirname(page), path) : page, anchor };
    });
}

describe('documentation in sync with the code', () => {
  const vars = configVariables();
  const all = PAGES.map(read).join('\n');

  it('keeps the README short', () => {
    expect(read(join(ROOT, 'README.md')).split('\n').length).toBeLessThanOrEqual(250);
  });

  it('finds the configuration variables in libs/config', () => {
    expect(vars).toEqual(
      expect.arrayContaining([
        'PORT',
        'DATABASE_URL',
        'PLATFORM_FEE_FIXED',
        'ENCRYPTION_KEY',
        'OTEL_SERVICE_NAME',
      ]),
    );
  });

  it.each(vars)('documents %s once in README/docs and in .env.example', (name) => {
    expect(envExample).toMatch(new RegExp(`^${name}=`, 'm'));
    const rows = all.match(new RegExp(`^\\| \`${name}\` \\|`, 'gm')) ?? [];
    expect(rows).toHaveLength(1);
  });

  it.each(Object.entries(ERROR_CODES))(
    'lists error code %s once with its status',
    (code, { status, name }) => {
      const rows = all.match(new RegExp(`^\\| \`${code}\` \\| ${status} \\| \`${name}\` \\|`, 'gm')) ?? [];
      expect(rows).toHaveLength(1);
    },
  );

  describe.each(PAGES.map((p) => [relative(ROOT, p), p]))('links of %s', (_name, page) => {
    const links = relativeLinks(page);
    it.each(links.length ? links.map((l) => [l.target, l]) : [['(none)', null]])(
      '%s resolves',
      (_t, link) => {
        if (!link) return;
        expect(existsSync(link.file) ? link.file : `missing: ${link.file}`).toBe(link.file);
        if (link.anchor && link.file.endsWith('.md'))
          expect([...anchors(read(link.file))]).toContain(link.anchor);
      },
    );
  });
});

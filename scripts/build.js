#!/usr/bin/env node
/* eslint-disable */
// `npm run build`: transpiles apps/ and libs/ into dist/ with SWC in a few seconds (tsc took a minute), with the
// configuration jest uses, and tsconfig's path aliases (@app/...) rewritten to relative requires. Types are
// checked apart, by `npm run typecheck` (CI runs it before the tests).
const { mkdirSync, readdirSync, rmSync, writeFileSync, copyFileSync, utimesSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');
const swc = require('@swc/core');
const { SWC } = require('./swc-options');
const { compilerOptions } = require('../tsconfig.json');

const root = join(__dirname, '..');
const out = join(root, 'dist');
// As tsconfig.build.json: specs and their support files use jest's globals and stay out of dist/.
const LEFT_OUT = /(\.spec|\.e2e-spec|-spec-support|\.d)\.ts$/;

function walk(dir, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(path, found);
    } else found.push(path);
  }
  return found;
}

async function compile(file) {
  const rel = relative(root, file);
  const target = join(out, rel.replace(/\.ts$/, '.js'));
  const { code, map } = await swc.transformFile(file, {
    ...SWC,
    jsc: { ...SWC.jsc, baseUrl: root, paths: compilerOptions.paths },
    swcrc: false,
    configFile: false,
    sourceMaps: true,
    // As tsc's maps: positions only, the sources stay in the repository (and out of the image).
    inlineSourcesContent: false,
    sourceFileName: relative(dirname(target), file).split(sep).join('/'),
  });
  mkdirSync(dirname(target), { recursive: true });
  const mapName = `${target.slice(dirname(target).length + 1)}.map`;
  writeFileSync(target, `${code}\n//# sourceMappingURL=${mapName}\n`);
  writeFileSync(`${target}.map`, map);
}

async function main() {
  const began = Date.now();
  rmSync(out, { recursive: true, force: true });
  const files = ['apps', 'libs'].flatMap((d) => walk(join(root, d)));
  const sources = files.filter((f) => f.endsWith('.ts') && !LEFT_OUT.test(f));
  // JSON that the code imports (resolveJsonModule), e.g. the emulator's parameter table.
  for (const f of files.filter((f) => f.endsWith('.json') && f.split(sep).includes('src'))) {
    const target = join(out, relative(root, f));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(f, target);
  }
  await Promise.all(sources.map(compile));
  // For scripts/ensure-built.js: a source saved during the build is newer than the stamp, so the next run builds.
  const stamp = join(out, '.build-stamp');
  writeFileSync(stamp, `${new Date(began).toISOString()}\n`);
  utimesSync(stamp, new Date(began), new Date(began));
  process.stdout.write(
    `built ${sources.length} files into dist/ in ${((Date.now() - began) / 1000).toFixed(1)} s\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

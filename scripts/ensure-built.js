#!/usr/bin/env node
/* eslint-disable */
// Runs `npm run build` only when dist/ is missing or older than a source, so `npm start` and the CLIs start from
// the built output at once when it is current. The stamp (written by scripts/build.js) records when the last
// build began.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = [
  'apps',
  'libs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'scripts/build.js',
  'scripts/swc-options.js',
];
const skip = new Set(['node_modules', 'dist', '.data', 'coverage']);

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return /\.spec\.ts$/.test(path) ? 0 : st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) if (!skip.has(name)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const source = Math.max(
  ...inputs
    .map((p) => join(root, p))
    .filter(existsSync)
    .map(newest),
);
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built >= source) process.exit(0);

process.stderr.write(built ? 'Sources changed since the last build: building\n' : 'No build yet: building\n');
const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

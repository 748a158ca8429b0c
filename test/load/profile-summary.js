/* eslint-disable */
// Aggregates self time of V8 .cpuprofile files (node --cpu-prof) by function and by package/file, so a profile
// can be read without a flame-graph viewer: node test/load/profile-summary.js <file.cpuprofile>... [--top=30]
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const top = Number((args.find((a) => a.startsWith('--top=')) || '--top=30').split('=')[1]);
const files = args.filter((a) => !a.startsWith('--'));
if (!files.length) {
  console.error('usage: node test/load/profile-summary.js <file.cpuprofile>... [--top=30]');
  process.exit(2);
}

const byFn = new Map();
const byPkg = new Map();
let total = 0;
const add = (m, k, v) => m.set(k, (m.get(k) || 0) + v);

function pkgOf(url) {
  if (!url) return '(native/idle/gc)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const d = url.indexOf('/dist/');
  return d >= 0 ? `app:${url.slice(d + 6)}` : url;
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  // timeDeltas[i] is the time before samples[i]; attribute it to that sample's node.
  prof.samples.forEach((id, i) => dt.set(id, (dt.get(id) || 0) + (prof.timeDeltas[i] || 0)));
  for (const [id, us] of dt) {
    const n = nodes.get(id);
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${path.basename(cf.url)}:${cf.lineNumber + 1}` : '';
    total += us;
    add(byFn, `${name} ${where} [${pkgOf(cf.url)}]`, us);
    add(byPkg, name === '(idle)' ? '(idle)' : pkgOf(cf.url), us);
  }
}

const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5);
const print = (title, m) => {
  console.log(`\n${title} (self time, ${(total / 1e6).toFixed(1)} s sampled)`);
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => console.log(`${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`));
};
print('By package / file', byPkg);
print('By function', byFn);
